"""Measured results of experiments 3 and 4: decoder-swap pose errors, and MIG of DC-IGN vs VAE vs beta-VAE.

    python benchmarks/experiments_b.py            # the shipped models' measured results (re-measured from the weights)
    python benchmarks/experiments_b.py --train    # retrain both experiments with the default configs first (minutes)
"""

from __future__ import annotations

import argparse
import tempfile

import pandas as pd

from explorer.experiments import disentangle, swap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="retrain with the default configs into a temporary folder")
    args = parser.parse_args()
    pd.set_option("display.float_format", "{:.3f}".format)
    pd.set_option("display.width", 140)

    if args.train:
        root = tempfile.mkdtemp(prefix="experiments_b-")
        swap_run = swap.train_swap(swap.SwapConfig())
        swap.save_swap(swap_run, swap.default_swap_dir(root=root))
        dis_run = disentangle.train_disentangle(disentangle.DisentangleConfig())
        disentangle.save_disentangle(dis_run, disentangle.default_disentangle_dir(root))
    swap_run = swap.load_swap(swap.default_swap_dir(root=root if args.train else None))
    swap_results = swap.evaluate_swap(swap_run.model, swap_run.baseline, swap_run.config)  # measured now, not read
    c = swap_run.config
    print(f"Decoder swap, sprites {c.shape_a} -> {c.shape_b}, {swap_results['n_test']} held-out {c.shape_a} sprites "
          f"(pixels; angle in degrees mod 180; swaps vs the ideal {c.shape_b} render; the floor: those ideal "
          f"{c.shape_b} images reconstructed vs themselves)")
    print(swap.swap_table(swap_results).to_string())
    rows = swap_results["rows"]
    ratio = rows["baseline (separate AEs)"]["position_px"] / rows["swap (shared encoder)"]["position_px"]
    print(f"position error: separate AEs / shared encoder = {ratio:.1f}x\n")

    dis_run = disentangle.load_disentangle(disentangle.default_disentangle_dir(root if args.train else None))
    x, factors = disentangle.eval_set(dis_run.config)
    layout = disentangle.unit_layout(dis_run.config.factor_units)
    bins = dis_run.config.bins
    measured = {"methods": {name: disentangle.measure(m, x, factors, bins, layout, fixed=name == "dc-ign")
                            for name, m in dis_run.models.items()}}
    print(f"Disentanglement on {len(x)} freshly sampled sprites, code size {dis_run.config.dim} "
          f"(MIG and per-factor gaps: normalised mutual information, 1 = one unit per factor)")
    print(disentangle.mig_table(measured).to_string())


if __name__ == "__main__":
    main()
