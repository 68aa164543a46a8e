"""Neighbour-query latency, exact against approximate (pynndescent), at 5,000 and 70,000 codes.

    .venv/bin/python benchmarks/neighbors.py [--queries 300] [--metric euclidean]

The codes are real: mnist5k encoded by the shipped conv-ae-d16 (5,000 x 16). The 70,000 set tiles them 14
times, each copy jittered by Gaussian noise of 5 % of each dimension's spread, so it keeps the real codes'
cluster structure without 14 exact duplicates of every point. Queries are single codes (the page's case),
fresh jittered copies of random mnist5k codes. Target: <= 20 ms per query at 70,000.
Numba compiles pynndescent's code on its first use in a process; that one-off cost is timed on its own line.
--pixels adds the raw-pixel space (784 values, mnist5k tiled and jittered the same way): the Similar page's
third row, where exact search at 70,000 costs far more than in code space.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from explorer.checkpoints import load_checkpoint
from explorer.datasets import load_dataset
from explorer.evaluate import encode_all
from explorer.neighbors import NeighborIndex, recall_at_k

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 20.0


def jitter(codes: np.ndarray, copies: int, rng) -> np.ndarray:
    tiles = np.tile(codes, (copies, 1))
    return (tiles + rng.normal(0, 0.05, tiles.shape) * codes.std(0)).astype(np.float32)


def latencies_ms(index: NeighborIndex, queries: np.ndarray, k: int) -> np.ndarray:
    out = []
    for q in queries:
        start = time.perf_counter()
        index.query(q, k)
        out.append((time.perf_counter() - start) * 1000)
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--metric", default="euclidean", choices=["euclidean", "cosine"])
    ap.add_argument("--pixels", action="store_true", help="also time raw pixels (784-d); builds take minutes")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    ds = load_dataset("mnist5k")
    model, _ = load_checkpoint(ROOT / "checkpoints" / "mnist5k" / "conv-ae-d16", ds.image_shape)
    codes = encode_all(model, ds.images).numpy()  # (5000, 16)
    spaces = {"conv-ae-d16 codes of mnist5k (d = 16)": codes}
    if args.pixels:
        spaces["raw pixels of mnist5k (784 values)"] = ds.images[:].flatten(1).numpy()

    start = time.perf_counter()
    NeighborIndex(args.metric, "approximate").fit(codes[:500]).query(codes[:1], 1)
    print(f"pynndescent first use in this process (numba compilation): {time.perf_counter() - start:.1f} s")
    for title, base in spaces.items():
        queries = jitter(base[rng.choice(len(base), args.queries, replace=False)], 1, rng)  # (Q, D)
        print(f"\n{title}, {args.metric}, k = {args.k}, {args.queries} single queries")
        table(args, {5_000: base, 70_000: jitter(base, 14, rng)}, queries)


def table(args, sets: dict, queries: np.ndarray) -> None:
    header = f"{'rows':>7} {'method':<12} {'build s':>8} {'median ms':>10} {'p95 ms':>8} {'recall@' + str(args.k):>10}  target"
    print(header)
    print("-" * len(header))
    for n, data in sets.items():
        exact = NeighborIndex(args.metric, "exact").fit(data)
        truth, _ = exact.query(queries, args.k)
        for method in ("exact", "approximate"):
            index = exact if method == "exact" else NeighborIndex(args.metric, "approximate").fit(data)
            ms = latencies_ms(index, queries, args.k)
            found, _ = index.query(queries, args.k)
            med, p95 = np.median(ms), np.percentile(ms, 95)
            verdict = "ok" if p95 <= TARGET_MS else "SLOW"
            print(f"{n:>7,} {method:<12} {index.build_seconds_:>8.2f} {med:>10.3f} {p95:>8.3f} "
                  f"{recall_at_k(found, truth):>10.3f}  {verdict} (p95 <= {TARGET_MS:.0f} ms)")


if __name__ == "__main__":
    main()
