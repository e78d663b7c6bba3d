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

.PHONY: help env data lab test quick lint unit notebooks notebooks-fashion notebooks-student notebooks-html \
	notebooks-mnist results-check assignments results html cache-list cache-clear

help:
	@echo "make lab     - create .venv if needed and open the course in JupyterLab"
	@echo "make test    - create .venv if needed and run every test: lint, unit tests, every notebook at the"
	@echo "               size students run it on Fashion-MNIST (and MNIST where available), the student"
	@echo "               versions, the HTML build, and the check of results/RESULTS.md against this run"
	@echo "make quick   - lint, unit tests and the notebooks at the small size on Fashion-MNIST (a developer's loop)"
	@echo "make results - run the notebooks at full size and rewrite results/ from that run"
	@echo "make html    - render every notebook, executed, to build/html"
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

lab: env data
	$(BIN)/jupyter lab notebooks/

test: env data lint unit notebooks results-check

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

notebooks: notebooks-fashion notebooks-student notebooks-html notebooks-mnist

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
	  $(BIN)/python tools/render_html.py --out $(TEST_DIR)/html --executed $(TEST_DIR)/executed
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
	@if [ -d "$(SHARED_MNIST)" ]; then $(BIN)/python tools/results.py --check $(TEST_DIR)/mnist/results --datasets mnist; \
	else echo "results-check: mnist skipped ($(SHARED_MNIST) is absent)"; fi

# The same full-size legs, then results/ rewritten from what they measured.
results: env data notebooks-fashion notebooks-mnist
	$(BIN)/python tools/results.py --update $(TEST_DIR)/fashion/results
	@if [ -d "$(TEST_DIR)/mnist/results" ]; then $(BIN)/python tools/results.py --update $(TEST_DIR)/mnist/results; fi

html: env data
	$(BIN)/python tools/render_html.py

cache-list: env
	$(BIN)/python -m aelab.cache list

cache-clear: env
	$(BIN)/python -m aelab.cache clear
