"""App latency in a real browser: cold start to the first rendered map, and page switches with warm caches;
with --points, the map pages and their clicks on large checkpoints (100,000 and 1,000,000 images).

    .venv/bin/python benchmarks/app_latency.py [--rounds 3] [--map-page latent_map]
    .venv/bin/python benchmarks/app_latency.py --points 100000,1000000 [--work /tmp/app-latency] [--no-umap]

Cold start: from launching `streamlit run app.py` (headless, on a temporary copy of the shipped
checkpoints, so stored projections count and nothing in the repository is written) until the map
page's plotly chart is drawn in Chromium. Page switch: a click on another page in the sidebar nav
until that page's script has finished, after every page was visited once (warm caches).
Uses Debian's chromium with the flags of tests/e2e/conftest.py. Prints a table.

--points N: N warped copies of mnist5k's digits (labelled, an .npz under --work, kept for reruns), a conv-ae
d=16 checkpoint trained on them by `explorer train` (which stores codes, PCA map and neighbour index beside
it and the PCA baseline) and its UMAP map by `explorer maps` (timed; skipped with --no-umap). Then a fresh
server: each page opened in turn (Latent map first, so it pays for loading the data) until its map is drawn
and its script finished; and --rounds clicks on each, at different spots (median): a box selection on the
Latent map until its images are listed, a click on the Generate map until the decoded image's caption is new,
a click on the Similar map until the new query's neighbours are shown. Target: 10 s per page, 1 s per click.
The browser runs on the same 2 cores as the server, as in the tests.
"""

from __future__ import annotations

import argparse
import os
import re
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


PAGES_AT_SCALE = [("latent_map", "Latent map"), ("generate", "Generate"), ("similar", "Similar")]
WAIT_TEXT_JS = """([pattern, before]) => {
  const m = document.body.innerText.match(new RegExp(pattern));
  return m !== null && m[0] !== before;
}"""
PLOT_AREA_JS = """(i) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[i];
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return [box.left + xa._offset, box.top + ya._offset, xa._length, ya._length];
}"""


def scale_checkpoint(work: Path, n: int, umap: bool) -> tuple[Path, dict[str, float]]:
    """work/checkpoints-N/digits-N/conv-ae-d16 (made once, reused by reruns) and the seconds each step took."""
    from explorer.datasets.generated import write_warped_digits

    data, ckpt = work / f"digits-{n}.npz", work / f"checkpoints-{n}" / f"digits-{n}" / "conv-ae-d16"
    took = {}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    if not data.exists():
        t = time.perf_counter()
        write_warped_digits(data, n)
        took["generate the images"] = time.perf_counter() - t
    if not (ckpt / "config.json").exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "explorer", "train", "--dataset", f"folder:{data}", "--model", "conv-ae",
                        "--dim", "16", "--steps", "300", "--out", str(ckpt)], check=True, env=env, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took["explorer train (codes, PCA map, index, PCA beside)"] = time.perf_counter() - t
    if umap and not (ckpt / "projections" / "umap.npz").exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "explorer", "maps", str(ckpt), "--method", "umap"], check=True, env=env,
                       cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took["explorer maps --method umap"] = time.perf_counter() - t
    return ckpt.parent.parent, took


def timed(page, act, pattern: str) -> float:
    """Seconds from act() until new text matching pattern is shown and the script has finished."""
    before = re.search(pattern, page.inner_text("body"))
    t = time.perf_counter()
    act()
    page.wait_for_function(WAIT_TEXT_JS, arg=[pattern, before.group(0) if before else None], timeout=120_000,
                           polling=20)
    page.wait_for_function(FINISHED_JS, timeout=120_000, polling=20)
    return time.perf_counter() - t


def box_selection(page, x: float, y: float, width: float, height: float):
    """Choose plotly's box-select tool (not timed); return the drag from (x, y), width x height pixels."""
    chart = page.locator(".js-plotly-plot").first
    chart.hover()
    chart.locator('[data-title="Box Select"]').click()

    def drag():
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + width, y + height, steps=4)
        page.mouse.up()
    return drag


def measure_large(page, url: str, rounds: int) -> dict[str, float]:
    """Each map page opened in turn, then `rounds` clicks on each at different spots, median
    (see the module docstring)."""
    out = {}
    for path, title in PAGES_AT_SCALE:
        t = time.perf_counter()
        page.goto(f"{url}/{path}")
        page.wait_for_function(MAP_DRAWN_JS, timeout=300_000, polling=50)
        page.wait_for_function(FINISHED_JS, timeout=300_000, polling=50)
        out[f"open {title}"] = time.perf_counter() - t
        times = []
        for i in range(rounds):  # spots along a diagonal of the plot's middle
            left, top, width, height = page.evaluate(PLOT_AREA_JS, 0)
            x, y = left + width * (0.3 + 0.08 * i), top + height * (0.35 + 0.06 * i)
            if path == "latent_map":
                act, pattern = box_selection(page, x, y, width / 6, height / 6), r"[\d,]+ selected images"
            elif path == "generate":
                act, pattern = (lambda x=x, y=y: page.mouse.click(x, y)), r"decoded at \([^)]*\)"
            else:
                act, pattern = (lambda x=x, y=y: page.mouse.click(x, y)), r"Query: image \d+"
            times.append(timed(page, act, pattern))
            page.wait_for_timeout(300)
        what = {"latent_map": "box selection on the Latent map -> its images",
                "generate": "click on the Generate map -> decoded image",
                "similar": "click on the Similar map -> neighbours"}[path]
        out[f"{what} (median of {rounds})"] = statistics.median(times)
    return out


def main_large(args) -> None:
    from playwright.sync_api import sync_playwright

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for n in [int(v) for v in args.points.split(",")]:
        root, took = scale_checkpoint(work, n, not args.no_umap)
        with sync_playwright() as pw, open(work / f"streamlit-{n}.log", "w") as log:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            port = _free_port()
            server = start_server(root, port, log)
            try:
                wait_healthy(f"http://127.0.0.1:{port}", time.time() + 90)
                times = measure_large(page, f"http://127.0.0.1:{port}", args.rounds)
            finally:
                server.terminate()
                server.wait(timeout=20)
                browser.close()
        print(f"\n{n:,} images (28 x 28), conv-ae d=16" + ("" if args.no_umap else ", UMAP map stored"))
        width = max(len(k) for k in [*took, *times])
        print(f"{'measure':<{width}}  {'seconds':>8}  {'target':>7}  ok")
        for name, secs in took.items():
            print(f"{name:<{width}}  {secs:8.1f}")
        for name, secs in times.items():
            target = 10.0 if name.startswith("open") else 1.0
            print(f"{name:<{width}}  {secs:8.2f}  {f'<= {target:g}':>7}  {'yes' if secs <= target else 'NO'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="page switches measured per page")
    ap.add_argument("--map-page", default="latent_map")
    ap.add_argument("--points", help="large checkpoints instead: image counts, e.g. 100000,1000000")
    ap.add_argument("--work", default="/tmp/app-latency", help="--points: where the data and checkpoints are kept")
    ap.add_argument("--no-umap", action="store_true", help="--points: open on the PCA map, no UMAP map stored")
    args = ap.parse_args()
    if args.points:
        return main_large(args)
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
