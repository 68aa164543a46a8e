"""Training throughput of the default conv-ae against this machine's fp32 peak.

    .venv/bin/python benchmarks/throughput.py [--threads 2] [--seconds 8]

FLOPs of one training step (forward and backward) are counted by torch.utils.flop_counter; achieved
GFLOP/s = FLOPs per step x steps per second. Rows, side by side in one run: the trainer's default step
(NCHW, batch 64) and variants (channels-last memory format, larger batches, torch.compile). The peak of
2 cores with AVX2 FMA is about 150 GFLOP/s (2 cores x 2 FMA units x 8 floats x 2 FLOPs x ~2.3 GHz).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from explorer.models import ModelConfig, build_model

PEAK_GFLOPS = 150.0
SHAPES = {"28x28 gray (mnist5k)": (1, 28, 28), "32x32 rgb (photo crops)": (3, 32, 32)}


def step_fn(model, opt):
    def step(x):
        loss = model.loss(x)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return step


def measure(shape, batch: int, channels_last: bool, compiled: bool, seconds: float) -> tuple[float, float]:
    """(samples/s, GFLOP/s) of training steps on random images for about `seconds`."""
    torch.manual_seed(0)
    model = build_model(ModelConfig("conv-ae", shape, 16, loss="gaussian"))
    x = torch.rand(batch, *shape)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    step = step_fn(model, opt)
    with FlopCounterMode(display=False) as counter:
        step(x)
    flops = counter.get_total_flops()
    if compiled:
        step = torch.compile(step)
    for _ in range(3):  # warm-up (and compilation)
        step(x)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step(x)
        n += 1
    rate = n / (time.perf_counter() - start)
    return rate * batch, rate * flops / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (slow to compile)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    variants = [("default: NCHW, batch 64", 64, False, False), ("channels-last, batch 64", 64, True, False),
                ("NCHW, batch 128", 128, False, False), ("NCHW, batch 256", 256, False, False),
                ("channels-last, batch 256", 256, True, False)]
    if args.compile:
        variants.append(("torch.compile, batch 64", 64, False, True))
    print(f"conv-ae d=16 training steps, {args.threads} torch threads; peak about {PEAK_GFLOPS:.0f} GFLOP/s")
    for name, shape in SHAPES.items():
        base = None
        print(f"\n{name}")
        print(f"{'variant':<28}{'samples/s':>11}{'GFLOP/s':>9}{'of peak':>9}{'vs default':>12}")
        for label, batch, cl, comp in variants:
            rate, gflops = measure(shape, batch, cl, comp, args.seconds)
            base = base or rate
            share = gflops / PEAK_GFLOPS
            print(f"{label:<28}{rate:>11.0f}{gflops:>9.1f}{share:>9.1%}{rate / base:>11.2f}x", flush=True)


if __name__ == "__main__":
    main()
