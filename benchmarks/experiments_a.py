"""Experiments 1, 2 and 5 on the shipped checkpoints: denoising PSNR / SSIM, pre-training accuracy, analogies.

    .venv/bin/python benchmarks/experiments_a.py              # uses the stored results where present
    .venv/bin/python benchmarks/experiments_a.py --recompute  # retrains every pre-training classifier (minutes)
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch

from explorer.checkpoints import checkpoint_root, load_checkpoint
from explorer.datasets import load_dataset
from explorer.experiments import analogies, denoise, pretrain

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)


def bench_denoise(mnist) -> None:
    models = denoise.load_shipped("mnist5k")
    dae = models["denoising AE"].config
    print(f"\n## Denoise: mnist5k held-out ({len(mnist.test_idx)} images), shipped d=16 models; "
          f"denoiser trained with {dae.noise} noise {dae.noise_level}")
    for kind in ("gaussian", "salt-pepper", "masking"):
        frame = denoise.psnr_sweep(models, mnist.x_test, kind, (0.1, 0.2, 0.3, 0.4, 0.5, 0.6))
        print(f"\nPSNR (dB), {kind}:")
        psnr = frame.pivot(index="level", columns="method", values="psnr")
        print(psnr[[denoise.NOISY, *models]].round(2).to_string())
    result = denoise.denoise(models, mnist.x_test, dae.noise, dae.noise_level)
    print(f"\nAt the training level ({dae.noise} {dae.noise_level}):")
    print(result.table().round(3).to_string())


def bench_pretrain(mnist, recompute: bool) -> None:
    print("\n## Pre-train: mnist5k, encoder + linear head, held-out accuracy (%), mean of 3 label draws")
    for name in ("conv-ae-d16", "mlp-ae-d16"):
        path = checkpoint_root() / "mnist5k" / name
        frame = None if recompute else pretrain.load_results(path)
        source = "stored results"
        if frame is None:
            model, _ = load_checkpoint(path)
            start = time.perf_counter()
            frame = pretrain.run_pretrain(model, mnist)
            source = f"computed in {time.perf_counter() - start:.0f} s"
        print(f"\n{name} ({source}):")
        print((100 * pretrain.summary(frame)).round(1).to_string())
        g = pretrain.gap(frame, 10)
        print(f"10 labels per class, pre-trained minus random: frozen {100 * g['frozen']:+.1f} points, "
              f"fine-tuned {100 * g['fine-tuned']:+.1f}, best vs best {100 * g['best']:+.1f}")


def bench_analogies(mnist) -> None:
    sprites = load_dataset("sprites")
    print(f"\n## Analogies: move-right vector on sprites ({len(sprites.test_idx)} held-out), "
          "top quarter of x minus bottom quarter")
    rows = []
    for name in ("conv-ae-d10", "vae-d10"):
        path = checkpoint_root() / "sprites" / name
        if not (path / "config.json").is_file():
            print(f"(missing {path})")
            continue
        model, _ = load_checkpoint(path)
        for strength in (0.5, 1.0, 2.0, -1.0):
            r = analogies.move_right_shift(model, sprites, strength)
            rows.append({"model": name, "strength": strength, "shift x (px)": r.shift_px, "shift y (px)": r.shift_y_px,
                         "moved right": r.moved_right, "real gap (px)": r.group_gap_px})
    if rows:
        print(pd.DataFrame(rows).round(2).to_string(index=False))

    print("\nClass vectors on mnist5k conv-ae-d16: held-out images of class a, plus the a -> b vector, "
          "read as b by a 5-NN on codes")
    model, _ = load_checkpoint(checkpoint_root() / "mnist5k" / "conv-ae-d16")
    rows = []
    for a, b in ((0, 8), (1, 7), (4, 9), (3, 5)):
        for strength in (1.0, 2.0):
            r = analogies.class_transfer(model, mnist, a, b, strength)
            rows.append({"from": a, "to": b, "strength": strength, "read as to": r.rate, "without vector": r.base_rate,
                         "n": r.n})
    print(pd.DataFrame(rows).round(3).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recompute", action="store_true", help="retrain the pre-training classifiers")
    args = parser.parse_args()
    torch.set_num_threads(1)  # shared machines: one thread avoids oversubscription
    mnist = load_dataset("mnist5k")
    bench_denoise(mnist)
    bench_pretrain(mnist, args.recompute)
    bench_analogies(mnist)


if __name__ == "__main__":
    main()
