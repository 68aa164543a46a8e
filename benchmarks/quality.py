"""Held-out reconstruction quality on mnist5k: mlp-ae and conv-ae beside PCA at d = 2, 8, 16, 32.

    .venv/bin/python benchmarks/quality.py [--dims 2 8 16 32]

Error = mean per-image sum of squared errors on the 1,000 held-out digits (pixels in [0, 1]),
the measure of Hinton & Salakhutdinov 2006 (3.00 against PCA's 13.87 at d = 30 on full MNIST).
Targets for the better autoencoder's error over PCA's: < 1 at d = 2, <= 0.5 at d = 8, <= 0.7 at 16 and 32.
The autoencoders train with the shipped recipes' epochs and learning rates (explorer/shipped.py); the
conv-ae here has one 256-unit fully connected layer between its convolutions and the code on each side
(conv_fc=(256,), `explorer train --conv-fc 256`), which lifts it most at small d.
"""

from __future__ import annotations

import argparse

from explorer.datasets import load_dataset
from explorer.evaluate import evaluate_model
from explorer.models import ModelConfig, build_model
from explorer.pipeline import fit_pca
from explorer.shipped import MNIST_FAMILIES
from explorer.train import TrainConfig, fit

TARGETS = {2: 1.0, 8: 0.5, 16: 0.7, 32: 0.7}


def train(dataset, family: str, dim: int, **options):
    recipe = MNIST_FAMILIES[family]
    model = build_model(ModelConfig(family, dataset.image_shape, dim, **recipe.get("options", {}), **options))
    result = fit(model, dataset.x_train, dataset.x_test,
                 TrainConfig(epochs=recipe["epochs"], batch_size=64, lr=recipe.get("lr", 2e-3)))
    return evaluate_model(model, dataset), result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 8, 16, 32])
    args = parser.parse_args()
    dataset = load_dataset("mnist5k")
    print(f"{'d':>3} {'PCA':>8} {'mlp-ae':>8} {'conv-ae':>8} {'best/PCA':>9} {'target':>7} {'met':>4} "
          f"{'kNN PCA':>8} {'kNN mlp':>8} {'kNN conv':>9} {'train s':>8}")
    for d in args.dims:
        pca = evaluate_model(fit_pca(dataset, d), dataset)
        mlp, t_mlp = train(dataset, "mlp-ae", d)
        conv, t_conv = train(dataset, "conv-ae", d, conv_fc=(256,))
        ratio = min(mlp["recon_sse"], conv["recon_sse"]) / pca["recon_sse"]
        target = TARGETS.get(d, 0.7)
        met = ratio < target if d == 2 else ratio <= target
        print(f"{d:>3} {pca['recon_sse']:>8.2f} {mlp['recon_sse']:>8.2f} {conv['recon_sse']:>8.2f} {ratio:>9.3f} "
              f"{target:>7.2f} {'yes' if met else 'NO':>4} {pca['knn_acc']:>8.3f} {mlp['knn_acc']:>8.3f} "
              f"{conv['knn_acc']:>9.3f} {t_mlp + t_conv:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
