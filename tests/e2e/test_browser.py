"""The course as a student meets it: JupyterLab in Chromium, started by ``make lab``.

Run by ``make browser`` (AELAB_E2E=1). Opens notebook 04 (sliders) and the student version of 04 with
one exercise answered wrong, runs "Restart Kernel and Run All Cells…" from the Kernel menu, and fails on
an error output, a cell that did not run, a widget that does not render or redraw, a progress bar that
does not render, or math left as raw ``$`` text. Then opens one page of the course site (make site).
Screenshots go to AELAB_SCREENSHOTS (make browser: $(TEST_DIR)/screenshots). The kernel inherits
AELAB_* from the caller: point AELAB_CACHE_DIR at a warm cache and nothing is trained.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("AELAB_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("AELAB_SCREENSHOTS", ROOT / ".aelab-test" / "screenshots"))
SITE = Path(os.environ.get("AELAB_SITE_DIR", ROOT / "build" / "site"))
RUN_TIMEOUT = float(os.environ.get("AELAB_BROWSER_RUN_TIMEOUT", "1200"))  # one Run All, seconds
COURSE = "notebooks/04_k_sparse_autoencoder.ipynb"
STUDENT = "assignments/04_k_sparse_autoencoder.ipynb"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the current tab
WRONG_TOP_K = '''def my_top_k(z, k):
    """Keep the k largest entries of each row of z (N, H); zero the rest."""
    values, index = z.topk(k, dim=1, largest=False)
    return torch.zeros_like(z).scatter(1, index, values)'''
# A scratch cell run after Run All: training that no cache serves, so its progress bar must show.
SCRATCH_FIT = ('import torch\nimport aelab\n_model = aelab.mlp_autoencoder((1, 8, 8), code=4)\n'
               '_history = aelab.fit(_model, torch.rand(256, 1, 8, 8), epochs=3)')

# One notebook's state, read from the page: prompts, kernel status, outputs, rendered math.
SNAPSHOT_JS = """() => {
  const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => !p.classList.contains('lm-mod-hidden'));
  if (!panel) return null;
  const cells = [...panel.querySelectorAll('.jp-Cell')];
  const code = cells.filter(c => c.classList.contains('jp-CodeCell'));
  const text = el => (el ? el.textContent : "");
  return {
    status: (panel.querySelector('.jp-Notebook-ExecutionIndicator') || {dataset: {}}).dataset.status || '',
    prompts: code.map(c => text(c.querySelector('.jp-InputPrompt')).trim()),
    sources: code.map(c => text(c.querySelector('.cm-content')).slice(0, 200)),
    stderr: code.map(c => [...c.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')]
                          .map(o => o.textContent.slice(0, 600))),
    outputs: code.map(c => text(c.querySelector('.jp-OutputArea'))),
    echoes: code.map(c => [...c.querySelectorAll('.jp-OutputArea-child')]
                          .filter(o => /\\d/.test(text(o.querySelector('.jp-OutputPrompt'))))
                          .map(o => text(o.querySelector('.jp-OutputArea-output')).slice(0, 200))),
    markdown: cells.filter(c => c.classList.contains('jp-MarkdownCell')).map(c => {
      const out = c.querySelector('.jp-RenderedMarkdown');
      if (!out) return {rendered: false, raw: '', math: 0};
      const copy = out.cloneNode(true);
      copy.querySelectorAll('code, pre, mjx-container, .MathJax, script').forEach(e => e.remove());
      return {rendered: true, raw: copy.textContent, math: out.querySelectorAll('mjx-container, .MathJax').length};
    }),
    widgetErrors: [...panel.querySelectorAll('.jp-OutputArea-output')].map(o => o.textContent)
                   .filter(t => /Error displaying widget|Loading widget|model not found/i.test(t)),
  };
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digest(folder: str) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((ROOT / folder).glob("*.ipynb"))}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started by ``make lab`` (127.0.0.1, a free port, a token), shut down at the end."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: make browser installs it (apt-get install chromium)")
    home = tmp_path_factory.mktemp("lab")
    settings = home / "settings"
    # No autosave: Run All must not write outputs into the repository's notebooks; no news pop-up.
    for plugin, values in {"@jupyterlab/docmanager-extension/plugin": {"autosave": False},
                           "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                                           "checkForUpdates": False}}.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    # What a student's clone has: no nbgrader menus, should the instructor extra share this environment.
    config = home / "config"
    (config / "labconfig").mkdir(parents=True)
    page_config = {"disabledExtensions": {"@jupyter/nbgrader": True}}
    (config / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": {
        f"nbgrader.server_extensions.{name}": False
        for name in ("formgrader", "validate_assignment", "assignment_list", "course_list")}}}))
    port, token = _free_port(), hashlib.sha256(os.urandom(16)).hexdigest()[:32]
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "MPLBACKEND")}  # as on a student's machine
    env.update(JUPYTER_TOKEN=token, JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTER_CONFIG_DIR=str(config),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log = (home / "lab.log").open("w")
    before = {"notebooks": _digest("notebooks"), "assignments": _digest("assignments")}
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_PORT={port}", "LAB_BROWSER=0"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"make lab exited with {proc.returncode}:\n{(home / 'lab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                log_tail = (home / "lab.log").read_text()[-3000:]
                pytest.fail(f"JupyterLab did not answer on {base} within 180 s:\n{log_tail}")
            time.sleep(1)
        yield {"base": base, "token": token, "log": home / "lab.log"}
    finally:
        try:  # the server stops its kernels, then itself
            request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(request, timeout=10).close()
        except OSError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # the process group this fixture started (make, jupyter)
            proc.wait(timeout=30)
        log.close()
    after = {"notebooks": _digest("notebooks"), "assignments": _digest("assignments")}
    assert after == before, "the browser session changed notebooks in the repository (autosave?)"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _snapshot(page) -> dict:
    return page.evaluate(SNAPSHOT_JS)


def _open(page, lab, path: str) -> None:
    """Open a notebook in a workspace of its own (no other tab restored) and wait for its kernel."""
    workspace = Path(path).parts[0]
    page.goto(f"{lab['base']}/lab/workspaces/{workspace}/tree/{path}?token={lab['token']}")
    page.wait_for_selector(f"{PANEL} .jp-CodeCell", timeout=120_000)
    # The kernel must be up, not merely the indicator idle: a restart asked for while the kernel is still
    # starting runs nothing. The server's session list says when it is.
    deadline = time.monotonic() + 180
    while not _kernel_idle(lab, path):
        if time.monotonic() > deadline:
            pytest.fail(f"the kernel of {path} did not start within 180 s")
        page.wait_for_timeout(1000)
    page.wait_for_function("() => { const s = document.querySelector("
                           "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');"
                           " return s && s.dataset.status === 'idle'; }", timeout=120_000)


def _kernel_idle(lab, path: str) -> bool:
    with urllib.request.urlopen(f"{lab['base']}/api/sessions?token={lab['token']}", timeout=10) as reply:
        sessions = json.load(reply)
    return any(s.get("path") == path and (s.get("kernel") or {}).get("execution_state") == "idle" for s in sessions)


def _restart_and_run_all(page) -> dict:
    """The Kernel menu's "Restart Kernel and Run All Cells…", confirmed; returns the state at the end:
    the kernel idle and no cell queued or running ([*]) for 3 s, within RUN_TIMEOUT. On a loaded machine
    the restart can time out in JupyterLab, which then runs nothing: the command is tried up to 3 times."""
    for attempt in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
        page.get_by_role("menuitem", name=re.compile(r"^Restart Kernel and Run All Cells…")).click()
        page.locator(".jp-Dialog .jp-mod-accept").click()
        try:
            page.wait_for_function(f"() => [...document.querySelectorAll('{PANEL} .jp-InputPrompt')]"
                                   ".some(p => /\\*|\\d/.test(p.textContent))", timeout=120_000)
            break
        except Exception:  # noqa: BLE001 - tried again, then reported
            _shot(page, f"run-all-did-not-start-{attempt}")
            page.wait_for_function(f"() => document.querySelector('{PANEL} .jp-Notebook-ExecutionIndicator')"
                                   ".dataset.status === 'idle'", timeout=120_000)
    else:
        pytest.fail("Restart Kernel and Run All Cells ran no cell in 3 tries (see run-all-did-not-start-*.png)")
    started, quiet_since = time.monotonic(), None
    while True:
        state = _snapshot(page)
        busy = state["status"] != "idle" or any("*" in p for p in state["prompts"])
        quiet_since = None if busy else (quiet_since or time.monotonic())
        if quiet_since and time.monotonic() - quiet_since > 3:
            return state
        if time.monotonic() - started > RUN_TIMEOUT:
            pytest.fail(f"Run All did not finish within {RUN_TIMEOUT:.0f} s; prompts {state['prompts']}")
        page.wait_for_timeout(1000)


def _scroll_to(page, locator, settle: int = 500) -> None:
    """Scroll a cell into the middle of the notebook (JupyterLab renders cells out of view lazily)."""
    locator.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(settle)


def _scroll_through(page, name: str) -> None:
    """Scroll the notebook top to bottom (markdown and outputs render as they come into view); a screenshot
    of each screenful."""
    cells = page.locator(f"{PANEL} .jp-Cell")
    shot = 0
    for i in range(cells.count()):
        _scroll_to(page, cells.nth(i), settle=0)
        if i % 6 == 0:
            page.wait_for_timeout(300)
            _shot(page, f"{name}-{shot:02d}")
            shot += 1
    page.wait_for_timeout(1000)


def _unexecuted(state) -> list[str]:
    return [src.splitlines()[0] if src else "?" for p, src in zip(state["prompts"], state["sources"])
            if not re.fullmatch(r"\[\d+\]:", p)]


@pytest.fixture(scope="module")
def course(lab, browser):
    """Notebook 04 after Run All, its slider moved, and a scratch training cell with its progress bar."""
    page = browser.new_page(viewport={"width": 1366, "height": 860})
    _open(page, lab, COURSE)
    result = {"run": _restart_and_run_all(page)}
    _scroll_through(page, "course-04")
    result["final"] = _snapshot(page)

    # The slider: move it with the keyboard, as a student would, and wait for a new picture.
    widget = page.locator(f"{PANEL} .jp-OutputArea-output .widget-vbox").filter(has=page.locator(".widget-image")).first
    result["widget_found"] = widget.count() > 0
    if result["widget_found"]:
        _scroll_to(page, widget)
        image = widget.locator(".widget-image").first
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                               timeout=30_000)
        result["image_before"] = image.get_attribute("src")
        result["label_before"] = widget.locator(".widget-readout").first.inner_text()
        _shot(page, "course-04-slider-before")
        widget.locator(".noUi-handle").first.focus()
        page.keyboard.press("ArrowRight")
        try:
            page.wait_for_function("([img, old]) => img.getAttribute('src') !== old && img.complete && "
                                   "img.naturalWidth > 0", arg=[image.element_handle(), result["image_before"]],
                                   timeout=60_000)
            result["redrawn"] = True
        except Exception:  # noqa: BLE001 - reported by the test that reads it
            result["redrawn"] = False
        result["label_after"] = widget.locator(".widget-readout").first.inner_text()
        _shot(page, "course-04-slider-after")

    # A progress bar: one more cell at the end, training a tiny model that no cache holds.
    page.locator(f"{PANEL} .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.insert_text(SCRATCH_FIT)
    page.keyboard.press("Control+Enter")  # run it and stay (Shift+Enter would add a cell below)
    last = page.locator(f"{PANEL} .jp-CodeCell").filter(has_text="_history = aelab.fit")
    try:
        last.locator(".widget-hprogress .progress-bar").first.wait_for(timeout=60_000)
        page.wait_for_function("cell => /3\\/3/.test(cell.innerText)", arg=last.element_handle(), timeout=60_000)
    except Exception:  # noqa: BLE001 - reported by the test that reads it
        pass
    _scroll_to(page, last)
    bars = last.locator(".widget-hprogress .progress-bar")
    result["progress_bars"] = bars.count()
    result["progress_width"] = bars.first.bounding_box()["width"] if bars.count() else 0
    result["progress_text"] = last.locator(".jp-OutputArea").inner_text()
    result["progress_stderr"] = last.locator('[data-mime-type="application/vnd.jupyter.stderr"]').count()
    _shot(page, "course-04-progress-bar")
    page.close()
    return result


@pytest.fixture(scope="module")
def student(lab, browser):
    """The student version of 04 with exercise 1 answered wrong (the k smallest instead of the largest)."""
    page = browser.new_page(viewport={"width": 1366, "height": 860})
    _open(page, lab, STUDENT)
    cell = page.locator(f"{PANEL} .jp-CodeCell").filter(has_text="def my_top_k").first
    _scroll_to(page, cell)
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(WRONG_TOP_K)
    run = _restart_and_run_all(page)
    check = page.locator(f"{PANEL} .jp-CodeCell").filter(has_text="check_top_k(my_top_k)").first
    _scroll_to(page, check)
    _shot(page, "student-04-wrong-answer")
    # read while the cell is on screen: JupyterLab 4 detaches the outputs of cells scrolled out of view
    check_output = check.locator(".jp-OutputArea").inner_text()
    _scroll_through(page, "student-04")
    result = {"run": run, "final": _snapshot(page), "check_output": check_output}
    page.close()
    return result


def test_course_notebook_runs_every_cell_without_an_error(course):
    state = course["run"]
    assert not _unexecuted(state), f"cells that did not run: {_unexecuted(state)}"
    errors = [(src.splitlines()[0] if src else "?", err) for src, err in zip(state["sources"], state["stderr"]) if err]
    assert not errors, f"error or stderr output in: {errors}"


def test_claims_are_not_echoed_as_out(course):
    echoes = [e for cell in course["final"]["echoes"] for e in cell if re.match(r"^(True|False)\b", e)]
    assert not echoes, f"Out[n] echoes of claim results: {echoes}"


def test_checks_and_histories_are_not_echoed_as_out(course):
    echoes = [e for cell in course["final"]["echoes"] for e in cell if re.match(r"^(CheckResult|History)\(", e)]
    assert not echoes, f"Out[n] echoes: {echoes}"


def test_slider_renders_and_redraws_when_moved(course):
    assert not course["final"]["widgetErrors"], course["final"]["widgetErrors"]
    assert course["widget_found"], "no slider widget (VBox with an Image) rendered in notebook 04"
    assert course["label_after"] != course["label_before"], "the slider did not move"
    assert course["redrawn"], "moving the slider did not redraw the figure"


def test_progress_bar_renders(course):
    assert course["progress_bars"] >= 1, f"no tqdm widget progress bar; the cell shows {course['progress_text']!r}"
    assert course["progress_width"] > 50, f"the bar is {course['progress_width']} px wide after 3 of 3 epochs"
    assert "3/3" in course["progress_text"]
    assert course["progress_stderr"] == 0, "the progress bar fell back to text on stderr"


@pytest.mark.parametrize("which", ["course", "student"])
def test_math_is_rendered(which, request):
    markdown = request.getfixturevalue(which)["final"]["markdown"]
    assert markdown and all(m["rendered"] for m in markdown), "a markdown cell did not render"
    assert sum(m["math"] for m in markdown) >= 5, "MathJax rendered (almost) no math"
    raw = [m["raw"][:120] for m in markdown if "$" in m["raw"]]
    assert not raw, f"raw $ math left in the text: {raw}"


def test_wrong_answer_shows_its_failure_and_run_all_goes_on(student):
    state = student["run"]
    assert "smallest" in student["check_output"].lower(), student["check_output"]
    assert "Traceback" not in student["check_output"] and "aelab/checks" not in student["check_output"]
    assert not _unexecuted(state), f"Run All stopped; cells that did not run: {_unexecuted(state)}"
    assert "not attempted" in "\n".join(state["outputs"]).lower()  # the exercises left untouched


@pytest.fixture(scope="module")
def site_url():
    """The site served over HTTP on 127.0.0.1, as a reader gets it from a web server."""
    assert (SITE / "index.html").exists(), f"{SITE} has no site: make browser builds it first (make site)"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_course_site_page_renders_math_and_figures(browser, site_url):
    page = browser.new_page(viewport={"width": 1366, "height": 860})
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page.goto(f"{site_url}/01_pca_derivation.html")
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && "
                           "document.querySelectorAll('.MathJax, .MathJax_Display, .MathJax_CHTML').length > 0",
                           timeout=60_000)
    facts = page.evaluate("""() => {
      const body = document.querySelector('article') || document.body;
      const copy = body.cloneNode(true);
      copy.querySelectorAll('pre, code, script, .MathJax, .MathJax_Display, .MathJax_Preview, .cell_output')
          .forEach(e => e.remove());
      return {
        math: body.querySelectorAll('.MathJax, .MathJax_CHTML').length,
        mathErrors: body.querySelectorAll('.MathJax_Error, merror').length,
        raw: (copy.textContent.match(/.{0,40}\\$.{0,40}/g) || []).slice(0, 5),
        figures: [...body.querySelectorAll('.cell_output img')].filter(i => i.complete && i.naturalWidth > 100).length,
        links: [...body.querySelectorAll('a.aelab-notebook-link')].map(a => a.getAttribute('href')),
        search: !!document.querySelector('form[action*="search"], .search-button, #pst-search-dialog, .bd-search'),
        toc: document.querySelectorAll('nav.bd-links a, .bd-sidebar-primary a.reference').length,
      };
    }""")
    _shot(page, "site-01-top")
    page.locator(".cell_output img").first.scroll_into_view_if_needed()
    _shot(page, "site-01-figure")
    page.close()
    assert facts["math"] >= 5 and not facts["mathErrors"], facts
    assert not facts["raw"], f"raw $ math on the page: {facts['raw']}"
    assert facts["figures"] >= 3, f"only {facts['figures']} figures rendered"
    # about:blank is MathJax probing for locally installed fonts; a TeX/otf font is MathJax 2's fallback for a
    # glyph STIX-Web lacks (seen: MathJax_Script-Regular.otf, 404 in the offline package, which ships STIX-Web
    # only): math still renders (the counts above), so that one class of request is listed, not failed.
    fallbacks = [u for u in failed if "/mathjax/fonts/HTML-CSS/TeX/otf/" in u]
    if fallbacks:
        print(f"MathJax font fallbacks the offline package does not ship: {sorted(set(fallbacks))}")
    assert not [u for u in failed if not u.startswith(("data:", "about:")) and u not in fallbacks], \
        f"requests that failed: {failed}"
    assert len(facts["links"]) == 2 and all((SITE / href).exists() for href in facts["links"]), facts["links"]
    chapters = len(list(SITE.glob("[0-9]*.html")))
    assert facts["search"] and facts["toc"] >= chapters, facts


def test_lab_opens_where_students_find_notebooks_and_assignments(lab):
    with urllib.request.urlopen(f"{lab['base']}/api/contents/?token={lab['token']}", timeout=10) as reply:
        names = {item["name"] for item in json.load(reply)["content"]}
    assert {"notebooks", "assignments"} <= names, f"make lab's file browser root shows {sorted(names)}"
