"""App latency in a real browser: cold start to the first rendered map, and page switches with warm caches.

    .venv/bin/python benchmarks/app_latency.py [--rounds 3] [--map-page latent_map]

Cold start: from launching `streamlit run app.py` (headless, on a temporary copy of the shipped
checkpoints, so stored projections count and nothing in the repository is written) until the map
page's plotly chart is drawn in Chromium. Page switch: a click on another page in the sidebar nav
until that page's script has finished, after every page was visited once (warm caches).
Uses Debian's chromium with the flags of tests/e2e/conftest.py. Prints a table.
"""

from __future__ import annotations

import argparse
import re
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, _free_port  # noqa: E402

SWITCH_PAGES = [("overview", "Overview"), ("latent_map", "Latent map"), ("compare", "Compare"),
                ("export", "Export"), ("similar", "Similar")]
FINISHED_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
         && !document.querySelector('[data-testid="stStatusWidget"]');
}"""
MAP_DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')]
  .some(p => p._fullLayout && p.querySelector('.scatterlayer, .gl-container canvas'))"""


def start_server(root: Path, port: int, log) -> subprocess.Popen:
    env = {**os.environ, "EXPLORER_CHECKPOINTS": str(root), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(url: str, deadline: float) -> None:
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("streamlit did not become healthy")


def switch(page, path: str, title: str) -> float:
    """Click a page in the sidebar nav; seconds until its script has finished."""
    link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first
    t = time.perf_counter()
    link.click()
    # the default page (Overview) lives at the root URL, the others at /<file name>
    page.wait_for_url(re.compile(r":\d+/$" if path == "overview" else rf"/{path}$"), timeout=60_000)
    page.wait_for_timeout(50)  # let the rerun begin before polling for its end
    page.wait_for_function(FINISHED_JS, timeout=120_000, polling=20)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="page switches measured per page")
    ap.add_argument("--map-page", default="latent_map")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    pages = [(p, t) for p, t in SWITCH_PAGES if (ROOT / "pages" / f"{p}.py").exists()]
    if not (ROOT / "pages" / f"{args.map_page}.py").exists():
        raise SystemExit(f"pages/{args.map_page}.py does not exist yet")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw, open(Path(tmp) / "streamlit.log", "w") as log:
        root = Path(tmp) / "checkpoints"
        shutil.copytree(ROOT / "checkpoints", root)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)  # not part of the app's time
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        t0 = time.perf_counter()
        server = start_server(root, port, log)
        try:
            wait_healthy(url, time.time() + 90)
            t_health = time.perf_counter() - t0
            page.goto(f"{url}/{args.map_page}")
            page.wait_for_function(MAP_DRAWN_JS, timeout=120_000, polling=50)
            t_map = time.perf_counter() - t0
            page.wait_for_function(FINISHED_JS, timeout=120_000)
            for path, title in pages:  # warm every cache once
                switch(page, path, title)
            times: dict[str, list[float]] = {}
            for _ in range(args.rounds):
                for path, title in pages:
                    times.setdefault(title, []).append(switch(page, path, title))
        finally:
            server.terminate()
            server.wait(timeout=20)
            browser.close()

    rows = [("server healthy (process start)", t_health, None),
            (f"cold start to first drawn map (/{args.map_page})", t_map, 10.0)]
    rows += [(f"page switch to {title} (median of {len(v)})", statistics.median(v), 1.0) for title, v in times.items()]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'seconds':>8}  {'target':>7}  ok")
    for name, secs, target in rows:
        ok = "" if target is None else ("yes" if secs <= target else "NO")
        print(f"{name:<{width}}  {secs:8.2f}  {'' if target is None else f'<= {target:g}':>7}  {ok}")


if __name__ == "__main__":
    main()
