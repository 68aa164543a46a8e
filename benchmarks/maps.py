"""Maps at scale: PCA, UMAP and t-SNE of 100,000 and 1,000,000 real codes (fitted on a sample, the rest placed),
and the density picture the pages draw of them.

    .venv/bin/python benchmarks/maps.py [--sizes 100000,1000000] [--methods pca,umap,tsne] [--work /tmp/app-latency]

The codes are conv-ae d=16 codes of 1,000,000 warped copies of mnist5k's digits: the checkpoint that
`benchmarks/app_latency.py --points 1000000` trains (made here the same way when it is missing); the
100,000 rows are its first 100,000. Per size and method, in this process (UMAP's numba compilation falls on
the first UMAP fit): seconds to fit the sample, seconds to place the rest, the total against the estimate
the app shows (explorer.project.estimated_seconds), and the map's kNN accuracy on the labels (5 neighbours,
10,000 held-out points against the rest), for fitted and placed points apart. Then the density picture:
milliseconds to aggregate and shade all the points, and with a selection of a tenth of them.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from pathlib import Path

import numpy as np

from explorer import project as P
from explorer.mapplot import extent
from explorer.metrics import knn_accuracy

HERE = Path(__file__).resolve().parent


def real_codes(work: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes (n, 16), labels (n,)) of the 1M checkpoint that app_latency.py makes."""
    spec = importlib.util.spec_from_file_location("app_latency", HERE / "app_latency.py")
    app_latency = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app_latency)
    root, _ = app_latency.scale_checkpoint(work, 1_000_000, umap=False)
    ckpt = root / "digits-1000000" / "conv-ae-d16"
    with np.load(work / "digits-1000000.npz", allow_pickle=False) as f:
        labels = f["y"][:n]
    return np.asarray(np.load(ckpt / "codes.npy", mmap_mode="r")[:n]), labels


def map_accuracy(points: np.ndarray, labels: np.ndarray, rows: np.ndarray, rng) -> float:
    """kNN accuracy of up to 10,000 of `rows` against all the other points."""
    test = rng.choice(rows, size=min(10_000, len(rows)), replace=False)
    train = np.setdiff1d(np.arange(len(points)), test)
    return knn_accuracy(points[train], labels[train], points[test], labels[test])


def time_map(codes: np.ndarray, labels: np.ndarray, method: str) -> dict:
    marks = []
    start = time.perf_counter()
    proj = P.Projection(method).fit(codes, progress=lambda done, total: marks.append(time.perf_counter()))
    total = time.perf_counter() - start
    fit = (marks[0] - start) if marks else total
    fitted = proj.fitted_rows_ if proj.fitted_rows_ is not None else np.arange(len(codes))
    placed = np.setdiff1d(np.arange(len(codes)), fitted)
    rng = np.random.default_rng(0)
    return {"fit": fit, "place": total - fit, "total": total, "estimate": P.estimated_seconds(method, len(codes)),
            "fitted": len(fitted), "acc_fitted": map_accuracy(proj.points_, labels, fitted, rng),
            "acc_placed": map_accuracy(proj.points_, labels, placed, rng) if len(placed) else float("nan"),
            "points": proj.points_}


def time_density(points: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(ms for the whole picture, ms with a tenth of the points selected), medians of 5."""
    from explorer.mapplot import _PICTURES, view_figure

    ranges = extent(points)
    whole, selected = [], []
    for _ in range(5):
        _PICTURES.clear()
        t = time.perf_counter()
        view_figure(points, ranges, labels=labels)
        whole.append(time.perf_counter() - t)
        t = time.perf_counter()
        view_figure(points, ranges, labels=labels, highlight=np.arange(0, len(points), 10))
        selected.append(time.perf_counter() - t)
    return 1000 * float(np.median(whole)), 1000 * float(np.median(selected))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--methods", default="pca,umap,tsne")
    ap.add_argument("--work", default="/tmp/app-latency")
    args = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    sizes = [int(s) for s in args.sizes.split(",")]
    all_codes, all_labels = real_codes(Path(args.work), max(sizes))
    print(f"machine: {os.cpu_count()} cores; conv-ae d=16 codes of warped mnist5k digits; "
          f"UMAP fitted on {P.FIT_SAMPLE['umap']:,}, t-SNE on {P.FIT_SAMPLE['tsne']:,} sampled codes")
    print(f"{'codes':>9}  {'map':<5} {'fit s':>7} {'place s':>8} {'total s':>8} {'estimate s':>10} "
          f"{'measured/est':>12}  {'kNN acc fitted':>14} {'placed':>6}")
    drawn = {}
    for n in sizes:
        codes, labels = all_codes[:n], all_labels[:n]
        for method in args.methods.split(","):
            r = time_map(codes, labels, method)
            drawn[n] = r["points"]
            print(f"{n:>9,}  {P.MAP_METHODS[method]:<5} {r['fit']:7.1f} {r['place']:8.1f} {r['total']:8.1f} "
                  f"{r['estimate']:10.1f} {r['total'] / r['estimate']:12.2f}  {r['acc_fitted']:14.3f} "
                  f"{r['acc_placed']:6.3f}", flush=True)
    print(f"\n{'points':>9}  {'density picture ms':>18}  {'with a tenth selected ms':>24}")
    for n, points in drawn.items():
        whole, selected = time_density(points, all_labels[:n])
        print(f"{n:>9,}  {whole:18.0f}  {selected:24.0f}")


if __name__ == "__main__":
    main()
