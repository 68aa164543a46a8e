"""From a click on the map to the decoded image, server side (inverse + decode): median and p95 ms.

    .venv/bin/python benchmarks/interactive.py [--checkpoint checkpoints/mnist5k/conv-ae-d16] [--clicks 200]

5,000 points: the shipped mnist5k codes and their stored PCA / UMAP maps. 70,000 points: the
5,000 codes tiled 14 times with a small jitter (1 % of each dimension's spread), and their map
points tiled with the same kind of jitter in 2-D. The inverse's cost depends on the number of
map points and d, not on how the map was drawn, so the tiled UMAP map times the same KD-tree
lookups a real 70,000-point UMAP map would. The map and its KD-tree are built once, as the app
does (not timed); each click is a random spot in the map's extent, data points or empty space.
Target: <= 100 ms.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from explorer.checkpoints import load_checkpoint, read_config
from explorer.datasets import load_dataset
from explorer.evaluate import decode_all, encode_all
from explorer.project import Projection, project

TARGET_MS = 100.0


def tiled(arr: np.ndarray, times: int, rng) -> np.ndarray:
    out = np.tile(arr, (times, 1))
    return (out + rng.normal(size=out.shape) * 0.01 * arr.std(0)).astype(np.float32)


def time_clicks(proj: Projection, model, n_clicks: int, rng) -> dict[str, np.ndarray]:
    proj.inverse()  # built once per map, as the app caches it
    lo, hi = proj.points_.min(0), proj.points_.max(0)
    spots = rng.uniform(lo, hi, size=(n_clicks, 2))
    inv_ms, total_ms = [], []
    with torch.no_grad():
        for xy in spots:
            t0 = time.perf_counter()
            z = proj.inverse_transform(xy[None])  # (1, d)
            t1 = time.perf_counter()
            image = decode_all(model, torch.from_numpy(z))  # (1, C, H, W)
            t2 = time.perf_counter()
            assert image.shape[0] == 1
            inv_ms.append((t1 - t0) * 1e3)
            total_ms.append((t2 - t0) * 1e3)
    return {"inverse": np.array(inv_ms), "total": np.array(total_ms)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default="checkpoints/mnist5k/conv-ae-d16")
    ap.add_argument("--clicks", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(1)  # a live click is one request; don't count on idle cores
    ckpt = Path(args.checkpoint)
    config = read_config(ckpt)
    dataset = load_dataset(config["dataset"])
    model, _ = load_checkpoint(ckpt, dataset.image_shape)
    codes = encode_all(model, dataset.images).numpy()  # (5000, d)
    rng = np.random.default_rng(0)
    decode_all(model, torch.from_numpy(codes[:1]))  # warm-up

    print(f"checkpoint {ckpt} (d = {codes.shape[1]}), {args.clicks} clicks per row, torch threads 1")
    print(f"{'points':>7} {'map':<5} {'inverse median':>15} {'inverse p95':>12} {'click->image median':>20} "
          f"{'p95':>8}  target {TARGET_MS:.0f} ms")
    for n in (5_000, 70_000):
        for method in ("pca", "umap"):
            base = project(codes, method, ckpt)  # the stored map (computed and stored if missing)
            if n == len(codes):
                proj = base
            else:
                times = n // len(codes)
                big_codes = tiled(codes, times, rng)
                if method == "pca":
                    proj = Projection("pca").fit(big_codes)
                else:
                    proj = Projection.from_points(tiled(base.points_, times, rng), big_codes)  # see the docstring
            t = time_clicks(proj, model, args.clicks, rng)
            med, p95 = np.median(t["total"]), np.percentile(t["total"], 95)
            inv_med, inv_p95 = np.median(t["inverse"]), np.percentile(t["inverse"], 95)
            print(f"{len(proj.points_):>7} {method:<5} {inv_med:>12.2f} ms {inv_p95:>9.2f} ms"
                  f" {med:>17.2f} ms {p95:>5.2f} ms  {'ok' if p95 <= TARGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
