"""A real `streamlit run app.py` and a real headless Chromium (Debian's package) driven by Playwright.

The server runs on the session's copy of the shipped checkpoints (tests/conftest.py), so training
in a test never touches the repository. A failing test leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-unsafe-swiftshader"]
ARTIFACTS = ROOT / "test-artifacts"



def pytest_collection_modifyitems(config, items):
    """Every test in this folder is a browser test (`-m "not browser"` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(checkpoints: Path, log_name: str = "streamlit.log", env: dict | None = None):
    """`streamlit run app.py` headless on these checkpoints; yields the base URL once /_stcore/health answers."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (make test does)")
    port = _free_port()
    env = {**os.environ, "EXPLORER_CHECKPOINTS": str(checkpoints), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           **(env or {})}
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / log_name, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while time.time() < deadline:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.5)
            else:
                pytest.fail(f"streamlit did not become healthy in 90 s; see test-artifacts/{log_name}")
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)


@pytest.fixture(scope="session")
def app_url(checkpoint_copy):
    """The app on the session's copy of the shipped checkpoints."""
    with serve(checkpoint_copy) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def wait_for_app(pg) -> None:
    """Wait until the app's own navigation is drawn and Streamlit has finished running the script.

    Before st.navigation first runs the frontend may list the pages/ folder by itself, so the wait
    is for our own page titles, then for the 'Running...' status widget to go away.
    """
    pg.locator('[data-testid="stSidebarNav"]').get_by_text("Overview", exact=True).wait_for()
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)
    pg.wait_for_timeout(300)


def open_page(pg, base_url: str, path: str = "") -> None:
    pg.goto(f"{base_url}/{path}")
    wait_for_app(pg)
