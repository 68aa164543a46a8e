"""Neighbour search on real codes of large generated sets: exact, the IVF index, and pynndescent for comparison.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/neighbors.py [--sizes 100000,1000000] [--queries 1000]
        [--codes PATH] [--metric euclidean] [--no-pynndescent] [--pynndescent-timeout 480]

The codes: --codes PATH (an (N, d) float32 .npy), by default /tmp/rss1m/ckpt/conv-ae-d16/codes.npy when it
is there (a conv-ae d=16 trained for 300 steps on 1,000,000 warped mnist5k digits, the codes of all of them);
otherwise benchmarks/scale.py's generator writes N warped mnist5k digits (--work) and the shipped
checkpoints/mnist5k/conv-ae-d16 encodes them, once. Not tiled copies of 5,000 codes: those give every query
13 near-twins and a meaningless recall of 1.000.
Queries: the last --queries codes, never indexed; each size indexes the first min(size, N - queries) codes.
Each query is timed on its own (the page's case): median and p95 ms. recall@10 is against exact search.
IVF: the library's index (its n_probe measured at build time), then at half and twice that n_probe; "load" is
reading the stored index (NeighborIndex.load) and its file size. pynndescent (the previous index; n_neighbors
30, epsilon 0.1 as the library used) runs in a fresh process so that its build includes numba compilation,
with NUMBA_NUM_THREADS=1 like everything else here.

Measured (2 shared cores, busy with other work at times; OMP_NUM_THREADS=1; the default codes, euclidean):
       rows  method                   build s  median ms   p95 ms  recall@10  vs exact
    100,000  exact                       0.00      0.611    0.723      1.000      1.00
    100,000  IVF n_probe 8 (default)     0.85      0.098    0.147      0.985      0.16  load 0.01 s, 0.4 MB
    100,000  IVF n_probe 4                  -      0.078    0.099      0.920      0.13
    100,000  IVF n_probe 16                 -      0.138    0.207      0.999      0.23
    100,000  pynndescent                38.60      0.015    0.019      0.974      0.02  numba compilation included
    999,000  exact                       0.09      9.810   14.818      1.000      1.00
    999,000  IVF n_probe 8 (default)     5.47      0.186    0.237      0.985      0.02  load 0.09 s, 4.1 MB
    999,000  IVF n_probe 4                  -      0.115    0.139      0.927      0.01
    999,000  IVF n_probe 16                 -      0.333    0.408      0.999      0.03
    999,000  pynndescent               100.52      0.023    0.031      0.969      0.00  numba compilation included
For comparison, on the same 999,000 codes and queries, one thread (faiss-cpu 1.15.1 and hnswlib, installed
apart from the project): FAISS IndexIVFFlat (1,000 cells) builds in 0.8 s, 0.096 ms at n_probe 8 (recall
0.985); FAISS HNSW (M 16) builds in 53 s, 0.043 ms at efSearch 32 (0.996); hnswlib (M 16, ef_construction
100) builds in 110 s, 0.040 ms at ef 32 (0.999). Faster queries, but a compiled dependency each, and
HNSW's build is 10 to 20 times the numpy IVF's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from explorer.neighbors import NeighborIndex, recall_at_k

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CODES = Path("/tmp/rss1m/ckpt/conv-ae-d16/codes.npy")
TARGET_MS = 20.0


def generated_codes(work: Path, n: int) -> Path:
    """work/codes-N.npy: the shipped mnist5k conv-ae-d16's codes of N generated digits (scale.py's warps), once."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import torch
    from scale import make_images

    from explorer.checkpoints import load_checkpoint
    from explorer.datasets import load_dataset
    from explorer.evaluate import encode_all

    path = work / f"codes-{n}.npy"
    if path.exists():
        return path
    work.mkdir(parents=True, exist_ok=True)
    images = np.load(make_images(work, n, load_dataset("mnist5k").pixels), mmap_mode="r")  # (n, 28, 28) uint8
    model, _ = load_checkpoint(ROOT / "checkpoints" / "mnist5k" / "conv-ae-d16", (1, 28, 28))
    codes = np.empty((n, model.dim), np.float32)
    for s in range(0, n, 65_536):
        block = torch.from_numpy(np.asarray(images[s : s + 65_536], np.float32) / 255.0)[:, None]
        codes[s : s + len(block)] = encode_all(model, block).numpy()
    tmp = work / f".codes-{n}.tmp.npy"
    np.save(tmp, codes)
    os.replace(tmp, path)  # whole or absent: a killed run is not mistaken for codes next time
    return path


def single_query_ms(search, queries: np.ndarray) -> np.ndarray:
    """Milliseconds of each query asked on its own, after a few untimed ones (caches, first-call set-up)."""
    for q in queries[:20]:
        search(q)
    out = []
    for q in queries:
        start = time.perf_counter()
        search(q)
        out.append((time.perf_counter() - start) * 1000)
    return np.array(out)


def ivf_rows(data, queries, truth, args) -> list[dict]:
    index = NeighborIndex(args.metric, "approximate").fit(data)
    with tempfile.TemporaryDirectory() as tmp:
        path = index.save(Path(tmp) / "index.npz")
        start = time.perf_counter()
        NeighborIndex.load(path, data)
        load = f"load {time.perf_counter() - start:.2f} s, {path.stat().st_size / 1e6:.1f} MB"
    tuned, rows = index.n_probe_, []
    for n_probe in (tuned, max(1, tuned // 2), 2 * tuned):
        index.n_probe_ = n_probe  # the same cells, scanned more or less widely
        ms = single_query_ms(lambda q: index.query(q, args.k), queries)
        found, _ = index.query(queries, args.k)
        rows.append({"method": f"IVF n_probe {n_probe}" + (" (default)" if n_probe == tuned else ""),
                     "build": index.build_seconds_ if n_probe == tuned else None, "ms": ms,
                     "recall": recall_at_k(found, truth), "note": load if n_probe == tuned else ""})
    return rows


def pynndescent_row(codes_path: Path, n: int, args) -> dict:
    """pynndescent in a fresh process (its build includes numba compilation), or why it has no figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.npz"
        cmd = [sys.executable, __file__, "--worker", str(out), "--codes", str(codes_path), "--sizes", str(n),
               "--queries", str(args.queries), "--k", str(args.k), "--metric", args.metric]
        env = {**os.environ, "NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        try:
            subprocess.run(cmd, check=True, env=env, timeout=args.pynndescent_timeout, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return {"method": "pynndescent", "build": None, "ms": None, "recall": None,
                    "note": f"stopped after {args.pynndescent_timeout:.0f} s"}
        with np.load(out) as f:
            return {"method": "pynndescent", "build": float(f["build"]), "ms": f["ms"], "found": f["found"],
                    "note": "build includes numba compilation"}


def pynndescent_worker(args) -> None:
    from pynndescent import NNDescent

    data, queries = split(np.load(args.codes, mmap_mode="r"), int(args.sizes), args.queries)
    start = time.perf_counter()
    ann = NNDescent(np.ascontiguousarray(data), metric=args.metric, n_neighbors=30, random_state=0, low_memory=True)
    ann.prepare()  # the search graph, so the first query is not the slow one
    build = time.perf_counter() - start
    ms = single_query_ms(lambda q: ann.query(q[None], k=args.k, epsilon=0.1), queries)
    found, _ = ann.query(queries, k=args.k, epsilon=0.1)
    np.savez(args.worker, build=build, ms=ms, found=found)


def split(codes: np.ndarray, size: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """The first min(size, N - n_queries) codes to index and the last n_queries codes to ask."""
    n = min(size, len(codes) - n_queries)
    return np.asarray(codes[:n]), np.asarray(codes[len(codes) - n_queries :])


def print_table(title: str, rows: list[tuple[int, dict]]) -> None:
    print(title)
    header = (f"{'rows':>11}  {'method':<24}{'build s':>8}{'median ms':>11}{'p95 ms':>9}{'recall@10':>11}"
              f"{'vs exact':>10}  note")
    print(header)
    print("-" * len(header))
    exact_ms = {n: np.median(r["ms"]) for n, r in rows if r["method"] == "exact"}
    for n, r in rows:
        build = "-" if r["build"] is None else f"{r['build']:.2f}"
        if r["ms"] is None:
            print(f"{n:>11,}  {r['method']:<24}{build:>8}{'-':>11}{'-':>9}{'-':>11}{'-':>10}  {r['note']}")
            continue
        med, p95 = np.median(r["ms"]), np.percentile(r["ms"], 95)
        verdict = "" if p95 <= TARGET_MS else f"SLOW (p95 > {TARGET_MS:.0f} ms) "
        print(f"{n:>11,}  {r['method']:<24}{build:>8}{med:>11.3f}{p95:>9.3f}{r['recall']:>11.3f}"
              f"{med / exact_ms[n]:>10.2f}  {verdict}{r['note']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated numbers of indexed codes")
    ap.add_argument("--queries", type=int, default=1000, help="held-out codes asked, one at a time")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--metric", default="euclidean", choices=["euclidean", "cosine"])
    ap.add_argument("--codes", type=Path, help=f"an (N, d) .npy of codes (default {DEFAULT_CODES} if present, "
                                              "else generated and encoded under --work)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/neighbors-bench"))
    ap.add_argument("--no-pynndescent", action="store_true")
    ap.add_argument("--pynndescent-timeout", type=float, default=480.0, help="seconds per pynndescent run")
    ap.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run pynndescent, write results here
    args = ap.parse_args()
    if args.worker:
        return pynndescent_worker(args)

    sizes = [int(s) for s in args.sizes.split(",")]
    codes_path = args.codes or (DEFAULT_CODES if DEFAULT_CODES.exists() else
                                generated_codes(args.work, max(sizes) + args.queries))
    codes = np.load(codes_path, mmap_mode="r")
    rows = []
    for size in sizes:
        data, queries = split(codes, size, args.queries)
        n = len(data)
        exact = NeighborIndex(args.metric, "exact").fit(data)
        truth, _ = exact.query(queries, args.k)
        rows.append((n, {"method": "exact", "build": exact.build_seconds_, "recall": 1.0, "note": "",
                         "ms": single_query_ms(lambda q, exact=exact: exact.query(q, args.k), queries)}))
        rows += [(n, r) for r in ivf_rows(data, queries, truth, args)]
        if not args.no_pynndescent:
            r = pynndescent_row(codes_path, size, args)
            if r["ms"] is not None:
                r["recall"] = recall_at_k(r.pop("found"), truth)
            rows.append((n, r))
        print(f"done: {n:,} rows", file=sys.stderr, flush=True)
    print_table(f"{codes_path} ({len(codes):,} x {codes.shape[1]} codes), {args.metric}, k = {args.k}, "
                f"{args.queries} held-out single queries, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
                rows)


if __name__ == "__main__":
    main()
