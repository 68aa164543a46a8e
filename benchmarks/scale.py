"""A million images on one machine: decode, train, encode, PCA and evaluate at 10k, 100k and 1M images.

    .venv/bin/python benchmarks/scale.py [--sizes 10000,100000,1000000] [--steps 300] [--threads 1]

The data are MNIST-shaped (28 x 28 gray, uint8): mnist5k's 5,000 digits, each copy given its own random
rotation (+-15 deg), scale (0.9-1.1) and shift (+-3 px), written into an .npy (N, 28, 28) under --work
and kept there, so reruns skip generation. Per size:
- decode: N PNG files (up to --png-max) opened as folder:PATH with a fresh EXPLORER_CACHE; the first open
  decodes them in parallel into the memory-mapped uint8 cache, the second open reads that cache.
- train: `explorer train --model conv-ae --dim 16 --steps S` (batch 64) on the .npy, in a fresh process:
  samples/s = steps x 64 / (config.json's train.seconds - validation_seconds: the optimisation alone);
  the whole command (also evaluation, PCA beside the model, the codes of every image): wall s, peak RSS.
- encode: `explorer embed` after deleting the stored codes; images/s over the whole command.
- PCA: `explorer train --model pca --dim 16`: fit seconds (train.seconds) and the command's peak RSS.
- evaluate: `explorer evaluate --json`: wall s and peak RSS.
- torchrun x2: the same training under `torchrun --nproc-per-node 2`, OMP_NUM_THREADS=1 per rank.
Peak RSS is the child's ru_maxrss (os.wait4), memory-mapped pages it touched included.
Issue target: a 1,000,000 x 28 x 28 set trains, embeds and evaluates with peak RSS under 3 GB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from explorer.datasets import load_dataset
from explorer.datasets.generated import warped_batches

BATCH = 64  # the CLI's default batch size, passed explicitly so samples/s is steps x BATCH
RSS_TARGET_GB = 3.0
REPO = Path(__file__).resolve().parent.parent


def make_images(work: Path, n: int, source: torch.Tensor) -> Path:
    """work/images-N.npy, generated once in batches straight into a memory map; renamed into place when whole."""
    path = work / f"images-{n}.npy"
    if path.exists():
        return path
    tmp = work / f".images-{n}.tmp.npy"
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(n, 28, 28))
    for start, stop, images, _ in warped_batches(source, None, n):
        out[start:stop] = images
    out.flush()
    del out
    os.replace(tmp, path)
    return path


def make_pngs(work: Path, npy: Path, n: int) -> Path:
    """work/png-N/ with one PNG per image; a marker file (ignored by the loader: not an image) says it is whole."""
    folder = work / f"png-{n}"
    done = folder / "complete.marker"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    images = np.load(npy, mmap_mode="r")
    for i in range(n):
        Image.fromarray(np.asarray(images[i])).save(folder / f"{i:07d}.png")
    done.touch()
    return folder


def time_decode(folder: Path, n: int) -> tuple[float, float]:
    """(images/s of the first open, seconds of the second open), with a cache folder of its own."""
    old = os.environ.get("EXPLORER_CACHE")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["EXPLORER_CACHE"] = cache
        try:
            start = time.perf_counter()
            first = load_dataset(f"folder:{folder}", image_size=28)
            decode = time.perf_counter() - start
            assert len(first) == n, f"decoded {len(first)} of {n} images"
            start = time.perf_counter()
            load_dataset(f"folder:{folder}", image_size=28)
            reopen = time.perf_counter() - start
        finally:
            if old is None:
                del os.environ["EXPLORER_CACHE"]
            else:
                os.environ["EXPLORER_CACHE"] = old
    return n / decode, reopen


# Linux keeps a process's peak RSS across fork and exec: a command started straight from this (large)
# process would report this process's peak as its own. So a small Python starts it and reports its peak.
MEASURE = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[2:]); _, status, usage = os.wait4(p.pid, 0); "
           "open(sys.argv[1], 'w').write(str(usage.ru_maxrss)); sys.exit(os.waitstatus_to_exitcode(status))")


def run(cmd: list[str], log: Path, env: dict) -> tuple[float, float]:
    """(wall seconds, peak RSS in GB) of one command in a fresh process; output appended to log.
    The peak is the command's own ru_maxrss (for torchrun: the largest of its processes), via MEASURE."""
    peak = log.with_suffix(".peak")
    with open(log, "ab") as f:
        f.write(("\n$ " + " ".join(cmd) + "\n").encode())
        f.flush()
        start = time.perf_counter()
        code = subprocess.run([sys.executable, "-c", MEASURE, str(peak), *cmd], stdout=f, stderr=subprocess.STDOUT,
                              env=env, cwd=REPO).returncode
        wall = time.perf_counter() - start
    if code:
        raise RuntimeError(f"exit {code}: {' '.join(cmd[1:5])} ... (see {log})")
    return wall, int(peak.read_text()) * 1024 / 1e9


def train_rate(ckpt: Path) -> tuple[float, float]:
    """(samples/s, train seconds) from config.json: steps x BATCH over the seconds spent optimising
    (the run's 30 validation passes, up to 10,000 images each, left out)."""
    train = json.loads((ckpt / "config.json").read_text())["train"]
    optimising = train["seconds"] - train.get("validation_seconds", 0.0)
    return (train["steps"] * BATCH / optimising if optimising > 0 else math.nan), train["seconds"]


def bench_size(n: int, args, source: torch.Tensor, env: dict, errors: list[str]) -> dict:
    """One table row for n images; a stage that fails leaves its cells as 'failed' and the rest go on."""
    row: dict = {}
    work = Path(args.work)
    npy = make_images(work, n, source)
    runs = work / f"runs-{n}"
    shutil.rmtree(runs, ignore_errors=True)  # fresh checkpoints: PCA beside a model is reused when present
    runs.mkdir(parents=True)
    log = runs / "commands.log"
    explorer = [sys.executable, "-m", "explorer"]
    data = ["--dataset", f"folder:{npy}", "--dim", "16", "--steps", str(args.steps), "--batch-size", str(BATCH)]
    ae = runs / "single" / "conv-ae-d16"

    def stage(name, fn):
        try:
            fn()
        except Exception as exc:  # keep measuring the other stages; report at the end
            errors.append(f"{n:,} images, {name}: {exc}")

    def decode():
        if n > args.png_max:
            row["decode"] = row["reopen"] = "n/a"
            return
        row["decode"], row["reopen"] = time_decode(make_pngs(work, npy, n), n)

    def train():
        cmd = explorer + ["train", "--model", "conv-ae", *data, "--out", str(ae)]
        row["train_wall"], row["train_rss"] = run(cmd, log, env)
        row["train_rate"], _ = train_rate(ae)

    def embed():
        for name in ("codes.npy", "codes.json"):  # without them embed encodes every image again
            (ae / name).unlink()
        wall, row["embed_rss"] = run(explorer + ["embed", str(ae)], log, env)
        row["embed_rate"] = n / wall

    def pca():
        out = runs / "pca" / "pca-d16"
        _, row["pca_rss"] = run(explorer + ["train", "--model", "pca", *data, "--out", str(out)], log, env)
        row["pca_fit"] = train_rate(out)[1]

    def evaluate():
        row["eval_wall"], row["eval_rss"] = run(explorer + ["evaluate", str(ae), "--json"], log, env)

    def torchrun():
        out = runs / "torchrun" / "conv-ae-d16"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "explorer", "train", "--model", "conv-ae", *data, "--out", str(out)]
        run(cmd, log, {**env, "OMP_NUM_THREADS": "1"})
        row["ddp_rate"], _ = train_rate(out)
        row["ddp_ratio"] = row["ddp_rate"] / row["train_rate"]

    for name, fn in [("decode", decode), ("train", train), ("embed", embed), ("PCA", pca), ("evaluate", evaluate),
                     ("torchrun", torchrun)]:
        stage(name, fn)
        print(f"  {n:,} images: {name} done", file=sys.stderr, flush=True)
    return row


COLUMNS = [  # (key, header, format)
    ("decode", "decode img/s (first open)", "{:,.0f}"), ("reopen", "reopen s", "{:.2f}"),
    ("train_rate", "train samples/s", "{:,.0f}"), ("train_rss", "train peak RSS GB", "{:.2f}"),
    ("train_wall", "whole train command s", "{:.1f}"), ("embed_rate", "encode img/s", "{:,.0f}"),
    ("embed_rss", "encode peak RSS GB", "{:.2f}"), ("pca_fit", "PCA fit s", "{:.2f}"),
    ("pca_rss", "PCA peak RSS GB", "{:.2f}"), ("eval_wall", "evaluate s", "{:.1f}"),
    ("eval_rss", "evaluate peak RSS GB", "{:.2f}"), ("ddp_rate", "torchrun x2 samples/s", "{:,.0f}"),
    ("ddp_ratio", "ratio", "{:.2f}x"),
]


def cell(row: dict, key: str, fmt: str) -> str:
    value = row.get(key, "failed")
    return value if isinstance(value, str) else fmt.format(value)


def machine_line(threads: int) -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 "unknown CPU")
    return f"machine: {model}, {os.cpu_count()} cores, torch {torch.__version__}, {threads} torch thread(s) per process"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated image counts")
    parser.add_argument("--steps", type=int, default=300, help=f"training steps of batch {BATCH}")
    parser.add_argument("--threads", type=int, default=1, help="torch threads here and in every single-process command")
    parser.add_argument("--png-max", type=int, default=100_000, help="largest size written as PNG files")
    parser.add_argument("--work", default="/tmp/scale-bench", help="where generated data and runs are kept")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    torch.set_num_threads(args.threads)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    Path(args.work).mkdir(parents=True, exist_ok=True)
    source = load_dataset("mnist5k").pixels  # uint8 (5000, 1, 28, 28)
    errors: list[str] = []
    rows = {n: bench_size(n, args, source, env, errors) for n in sizes}

    print(f"conv-ae d=16, {args.steps} steps of batch {BATCH}, MNIST-shaped 28 x 28 uint8 images (warped mnist5k)")
    print("| images | " + " | ".join(h for _, h, _ in COLUMNS) + " |")
    print("|---:" * (len(COLUMNS) + 1) + "|")
    for n, row in rows.items():
        print(f"| {n:,} | " + " | ".join(cell(row, k, f) for k, _, f in COLUMNS) + " |")
    print(machine_line(args.threads))
    startup = [sys.executable, "-c", "import explorer.cli, explorer.pipeline"]
    wall, rss = run(startup, Path(args.work) / "startup.log", env)
    print(f"every command's fixed cost: start-up (import torch + explorer) {wall:.1f} s, {rss:.2f} GB peak RSS; "
          "encode img/s is over the whole embed command, start-up and data loading included.")
    print(f"decode: n/a above --png-max {args.png_max:,} (writing that many files takes long here); PNGs are in the "
          "page cache when timed. train samples/s leave out the run's 30 validation passes (train.validation_seconds).")
    print("torchrun x2: 2 ranks of 1 thread on this machine's cores; it shows the mechanics and overhead of "
          "DistributedDataParallel (gloo), not a speed-up, when there are only 2 cores.")
    big = rows.get(1_000_000)
    if big is None:
        print(f"issue target: 1,000,000 images train, embed and evaluate under {RSS_TARGET_GB:.0f} GB peak RSS "
              "(1M not run here)")
    else:
        measured = ", ".join(f"{name} {cell(big, k, '{:.2f}')} GB" for name, k in
                             (("train", "train_rss"), ("embed", "embed_rss"), ("evaluate", "eval_rss")))
        print(f"issue target at 1,000,000 images: peak RSS under {RSS_TARGET_GB:.0f} GB; measured: {measured}")
    for line in errors:
        print(f"FAILED {line}")


if __name__ == "__main__":
    main()
