# The course's commands. `make lab` opens the course; `make test` runs every test, the notebooks included.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Tests train from scratch into throwaway data and cache folders, never the user's own cache.
TEST_DIR ?= $(CURDIR)/.aelab-test
SHARED_MNIST ?= $(CURDIR)/../shared/data/mnist-t10k
TIMED := tools/timed
NBVAL := $(BIN)/pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 -p no:cacheprovider
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
STUDENT_NOTEBOOKS := $(sort $(wildcard assignments/[0-9]*.ipynb))
HTML_NOTEBOOKS ?=

.PHONY: help env data lab test quick lint unit notebooks notebooks-fashion notebooks-student notebooks-html \
	notebooks-mnist results-check assignments results cache-list cache-clear

help:
	@echo "make lab     - create .venv if needed and open the course in JupyterLab"
	@echo "make test    - create .venv if needed and run every test: lint, unit tests, every notebook at the"
	@echo "               size students run it on Fashion-MNIST (and MNIST where available), the student"
	@echo "               versions, the HTML build, and the check of results/RESULTS.md against this run,"
	@echo "               then the course in a real browser, the site and the nbgrader round trip"
	@echo "make quick   - lint, unit tests and the notebooks at the small size on Fashion-MNIST (a developer's loop)"
	@echo "make results - run the notebooks at full size and rewrite results/ from that run"
	@echo "make site    - build the course site (build/site) from the notebooks make test executed"
	@echo "make assignments - regenerate the student versions in assignments/ from notebooks/"
	@echo "make cache-list / cache-clear - show or delete the trained models the notebooks cached"

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# Fashion-MNIST from Debian's package, when it is missing and apt can install it (best effort:
# aelab.load also downloads it when online, and says what to do when it cannot).
data:
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || (command -v sudo >/dev/null && echo "sudo -n") ); \
	  echo "Installing Debian's dataset-fashion-mnist (offline copy of Fashion-MNIST) ..."; \
	  ($$SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
	   ($$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1)) || \
	  echo "Could not install dataset-fashion-mnist; aelab will download Fashion-MNIST if you are online."; \
	fi

# JupyterLab at the repository root, where a student finds both notebooks/ and assignments/.
# Local only (127.0.0.1); --allow-root where it runs as root (a container); no browser opened under
# CI or with LAB_BROWSER=0. The token is JUPYTER_TOKEN when set (the browser test sets it), else random.
LAB_IP ?= 127.0.0.1
LAB_PORT ?= 8888
LAB_BROWSER ?= $(if $(CI),0,1)
LAB_FLAGS = --ServerApp.ip=$(LAB_IP) --ServerApp.port=$(LAB_PORT) --ServerApp.root_dir=$(CURDIR) \
	$(if $(filter 0,$(shell id -u)),--allow-root) $(if $(filter 0,$(LAB_BROWSER)),--no-browser)

lab: env data
	$(BIN)/jupyter lab $(LAB_FLAGS)

test: env data lint unit notebooks results-check e2e

# A developer's quick loop: the small size (AELAB_FAST=1), Fashion-MNIST only. Claims that need the
# full size are printed there, not asserted; `make test` asserts every claim at the full size.
quick: env data lint unit
	rm -rf $(TEST_DIR)/quick && mkdir -p $(TEST_DIR)/quick
	$(TIMED) "notebooks, fast size, fashion-mnist" env AELAB_FAST=1 AELAB_DATASET=fashion-mnist \
	  AELAB_CACHE_DIR=$(TEST_DIR)/quick/cache MPLBACKEND=Agg $(NBVAL) $(NOTEBOOKS)

lint:
	$(TIMED) lint sh -c '$(BIN)/ruff check . && $(BIN)/nbstripout --keep-id --verify $(NOTEBOOKS) $(STUDENT_NOTEBOOKS) && \
	  $(BIN)/python tools/make_assignments.py --check'

unit:
	$(TIMED) "unit tests" $(BIN)/pytest tests

# Where the MNIST test split is beside the checkout (developers, CI), the four notebook legs run two at
# a time, one thread each: on 2 cores two one-thread jobs finish in about 0.6-0.7 of the time the same
# jobs take one after the other with 2 threads each (benchmarks/side_by_side.py). Fashion-MNIST and MNIST
# start together; the student versions and the HTML build wait for the Fashion-MNIST leg, whose models
# they load. --output-sync prints each leg's log whole when it ends. Without MNIST: one leg after another.
ifneq ($(wildcard $(SHARED_MNIST)),)
notebooks:
	env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(MAKE) --no-print-directory -j2 --output-sync=target \
	  NOTEBOOK_PAIRS=1 notebooks-fashion notebooks-mnist notebooks-student notebooks-html
else
notebooks: notebooks-fashion notebooks-student notebooks-html notebooks-mnist
endif
ifeq ($(NOTEBOOK_PAIRS),1)
notebooks-student notebooks-html: | notebooks-fashion
endif

# Every notebook at the size students run it (the default), every claim asserted, each claim's value
# recorded for the results check. The models it trains are cached for the legs after it.
notebooks-fashion:
	@test -n "$(NOTEBOOKS)" || { echo "no notebooks found in notebooks/"; exit 1; }
	rm -rf $(TEST_DIR)/fashion && mkdir -p $(TEST_DIR)/fashion
	$(TIMED) "notebooks, full size, fashion-mnist" env AELAB_DATASET=fashion-mnist \
	  AELAB_CACHE_DIR=$(TEST_DIR)/fashion/cache AELAB_RESULTS_DIR=$(TEST_DIR)/fashion/results MPLBACKEND=Agg \
	  $(NBVAL) $(NOTEBOOKS)

# The student versions at the same size, on the models the fashion leg cached: they run end to end,
# every check saying "not attempted".
notebooks-student:
	@test -n "$(STUDENT_NOTEBOOKS)" || { echo "no student notebooks in assignments/: run make assignments"; exit 1; }
	$(TIMED) "student versions, full size, fashion-mnist" env AELAB_DATASET=fashion-mnist \
	  AELAB_CACHE_DIR=$(TEST_DIR)/fashion/cache MPLBACKEND=Agg $(NBVAL) $(STUDENT_NOTEBOOKS)

# What a reader of the HTML build sees is the full-size run: rendered on the models the fashion leg
# cached (nothing is trained again); the executed notebooks are kept beside the pages.
notebooks-html:
	$(TIMED) "HTML build, full size, fashion-mnist" env AELAB_DATASET=fashion-mnist \
	  AELAB_CACHE_DIR=$(TEST_DIR)/fashion/cache \
	  $(BIN)/python tools/render_html.py --out $(TEST_DIR)/html --executed $(TEST_DIR)/executed \
	  $(if $(HTML_NOTEBOOKS),--notebooks $(HTML_NOTEBOOKS))
	@test -f $(TEST_DIR)/html/index.html

assignments: env
	$(BIN)/python tools/make_assignments.py

# The same notebooks on real MNIST digits: an MNIST-format folder built from the MNIST test split
# in ../shared (developers and CI only; skipped where it is absent, as in a user's clone).
notebooks-mnist:
	@if [ -d "$(SHARED_MNIST)" ]; then \
	  rm -rf $(TEST_DIR)/mnist && mkdir -p $(TEST_DIR)/mnist && \
	  $(BIN)/python tools/build_mnist_subset.py "$(SHARED_MNIST)" $(TEST_DIR)/mnist/data && \
	  $(TIMED) "notebooks, full size, mnist" env AELAB_DATASET=mnist AELAB_DATA_DIR=$(TEST_DIR)/mnist/data \
	    AELAB_CACHE_DIR=$(TEST_DIR)/mnist/cache AELAB_RESULTS_DIR=$(TEST_DIR)/mnist/results \
	    MPLBACKEND=Agg $(NBVAL) $(NOTEBOOKS); \
	else echo "notebooks-mnist: skipped ($(SHARED_MNIST) is absent; it exists only beside the developers' checkout)"; fi

# Every claim this run measured against results/raw (tolerance and why: tools/results.py).
results-check:
	$(BIN)/python tools/results.py --check $(TEST_DIR)/fashion/results --datasets fashion-mnist
	$(BIN)/python tools/output_width.py $(TEST_DIR)/executed
	@if [ -d "$(SHARED_MNIST)" ]; then $(BIN)/python tools/results.py --check $(TEST_DIR)/mnist/results --datasets mnist; \
	else echo "results-check: mnist skipped ($(SHARED_MNIST) is absent)"; fi

# The same legs as `make test`, in the same lanes (so its records carry the thread count CI's do), then
# results/ rewritten from what the two full-size legs measured.
results: env data notebooks
	$(BIN)/python tools/results.py --update $(TEST_DIR)/fashion/results
	@if [ -d "$(TEST_DIR)/mnist/results" ]; then $(BIN)/python tools/results.py --update $(TEST_DIR)/mnist/results; fi

cache-list: env
	$(BIN)/python -m aelab.cache list

cache-clear: env
	$(BIN)/python -m aelab.cache clear


# ==== Where the course is used (issue 15): JupyterLab in a real browser, the course site, nbgrader ====
# They execute nothing themselves and train nothing: the site reads the notebooks a test leg executed
# (EXECUTED), the browser and nbgrader kernels read the models that leg cached (E2E_ENV). Proposed for
# `test`, after the notebook legs: `e2e` (browser, which builds the site first, then nbgrader).
EXECUTED ?= $(TEST_DIR)/executed
SITE_DIR ?= $(CURDIR)/build/site
SITE_NOTEBOOKS ?=
E2E_ENV ?= AELAB_DATASET=fashion-mnist AELAB_OFFLINE=1 AELAB_CACHE_DIR=$(TEST_DIR)/fashion/cache
CHROMIUM ?= /usr/bin/chromium
E2E := AELAB_E2E=1 $(E2E_ENV) $(BIN)/pytest -p no:cacheprovider -rx

.PHONY: instructor-env browser-env chromium site browser nbgrader e2e

instructor-env: $(VENV)/.installed-instructor
$(VENV)/.installed-instructor: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev,instructor]"
	touch $@

browser-env: $(VENV)/.installed-browser
$(VENV)/.installed-browser: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev,browser]"
	touch $@

# Debian's Chromium, for Playwright (which downloads no browser of its own here), like `data` does.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || (command -v sudo >/dev/null && echo "sudo -n") ); \
	  echo "Installing Debian's chromium for the browser test ..."; \
	  $$SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || \
	  ($$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq chromium >/dev/null 2>&1); \
	fi
	@test -x $(CHROMIUM) || { echo "$(CHROMIUM) is missing and could not be installed (apt-get install chromium)"; exit 1; }

# The course site: a Sphinx book (MyST-NB, sphinx-book-theme) of the executed notebooks in EXECUTED.
# SITE_NOTEBOOKS="01 04" builds those chapters only (a quick look during development).
site: instructor-env
	$(BIN)/python tools/build_site.py --executed $(EXECUTED) --out $(SITE_DIR) \
	  $(if $(SITE_NOTEBOOKS),--notebooks $(SITE_NOTEBOOKS))

# JupyterLab as `make lab` starts it, in Chromium: Run All on 04 and on its student version, sliders,
# progress bars, math; then one page of the site. Screenshots in $(TEST_DIR)/screenshots.
browser: browser-env chromium site
	rm -rf $(TEST_DIR)/screenshots
	AELAB_SCREENSHOTS=$(TEST_DIR)/screenshots AELAB_SITE_DIR=$(SITE_DIR) AELAB_CHROMIUM=$(CHROMIUM) \
	  $(E2E) tests/e2e/test_browser.py

# nbgrader round trip in a temporary course: generate_assignment, autograde three submissions of 04.
nbgrader: instructor-env
	$(E2E) tests/e2e/test_nbgrader.py

e2e: browser nbgrader
