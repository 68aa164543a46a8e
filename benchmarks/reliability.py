"""Decode reliability, validated: how well the score ranks the error of decoding held-out images' own map spots.

    .venv/bin/python benchmarks/reliability.py [--root checkpoints] [--n 1000]

For every checkpoint under the root and every map of its codes that is stored beside it (and the codes
themselves at d = 2: map 'direct'), explorer.reliability.heldout_validation judges up to n held-out images
at their own map spots against a reference of training images only. Columns: Spearman correlation of the
score with minus the error of decoding the spot (positive: the score ranks it), the mean score, and the mean
error of decoding the spot (sum of squares per image) beside the model's own reconstruction error of the
same images. The README's figures for Decode reliability come from this table.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from explorer.checkpoints import checkpoint_root, checkpoints_by_dataset
from explorer.evaluate import evenly_spaced, reconstruction_errors
from explorer.project import methods_for, project, stored_projection
from explorer.reliability import heldout_validation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="checkpoint root (default: the shipped checkpoints)")
    parser.add_argument("--n", type=int, default=1000, help="held-out images per row")
    args = parser.parse_args()
    torch.set_num_threads(1)

    print(f"{'checkpoint':<28} {'map':<7} {'n':>5} {'spearman':>9} {'score':>6} {'spot error':>11} {'own error':>10}"
          f" {'s':>5}")
    for spec, ckpts in checkpoints_by_dataset(args.root or checkpoint_root()).items():
        dataset = ckpts[0].load_dataset()
        for ckpt in ckpts:
            if ckpt.dataset_options != ckpts[0].dataset_options:
                dataset = ckpt.load_dataset()
            model = ckpt.load_model(dataset.image_shape)
            codes = ckpt.codes(model, dataset)
            test = np.asarray(dataset.test_idx)
            test = test[evenly_spaced(len(test), args.n)]  # the images heldout_validation judges
            own = float(reconstruction_errors(model, dataset.images.take(test)).mean())
            for method in methods_for(model.dim):
                # a 2-D code is its own map; of the others, only those stored (the app shows them at once)
                proj = project(codes, method) if method == "direct" else stored_projection(codes, method, ckpt.path)
                if proj is None:
                    continue
                start = time.perf_counter()
                v = heldout_validation(model, proj, codes, dataset, n_max=args.n)
                print(f"{spec + '/' + ckpt.name:<28} {method:<7} {v.n:>5} {v.spearman:>9.2f} {v.mean_score:>6.2f} "
                      f"{v.mean_error:>11.1f} {own:>10.1f} {time.perf_counter() - start:>5.0f}")


if __name__ == "__main__":
    main()
