"""The checkpoints shipped with the app, and the recipe that trains them (`explorer ship`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from explorer.train import TrainConfig


@dataclass
class Recipe:
    dataset: str
    family: str
    dim: int
    epochs: int | None = None  # None: the default step budget for the data size, as `explorer train` uses
    batch_size: int = 64
    lr: float = 2e-3
    options: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.family}-d{self.dim}"


# Every default except where a family needs more: the linear AE converges to PCA slowly.
MNIST_FAMILIES = {
    "pca": dict(),
    "linear-ae": dict(epochs=150, lr=1e-2),
    "mlp-ae": dict(),
    "conv-ae": dict(),
    # a top-k code (a quarter of the units, the default) on a wider encoder, which it needs to choose among its
    # units; L1 adds nothing once top-k fixes the count (20.5 with the default weight against 20.1 without)
    "sparse-ae": dict(options={"hidden": (512, 256), "l1_weight": 0.0}),
    "denoising-ae": dict(options={"noise": "gaussian", "noise_level": 0.4}),
    "vae": dict(),
}

# A 2-unit code cannot be sparse (a quarter of it is no unit at all): the sparse AE ships at d = 16 only.
RECIPES = [Recipe("mnist5k", fam, d, **kw) for d in (2, 16) for fam, kw in MNIST_FAMILIES.items()
           if (fam, d) != ("sparse-ae", 2)] + [
    # The sprites models keep an epoch budget (30 and 40 epochs of the 7,200 training sprites): the default
    # step budget gave them a higher held-out error.
    Recipe("sprites", "conv-ae", 10, epochs=30),
    Recipe("sprites", "vae", 10, epochs=40, options={"backbone": "conv"}),
    Recipe("digits", "mlp-ae", 2),
]


def ship_swap(root=None):
    from explorer.experiments.swap import SwapConfig, default_swap_dir, save_swap, train_swap

    return save_swap(train_swap(SwapConfig()), default_swap_dir(root=root))


def ship_disentangle(root=None):
    from explorer.experiments.disentangle import (DisentangleConfig, default_disentangle_dir, save_disentangle,
                                                  train_disentangle)

    return save_disentangle(train_disentangle(DisentangleConfig()), default_disentangle_dir(root=root))


def ship_overcomplete(root=None):
    from explorer.experiments.overcomplete import (OvercompleteConfig, default_overcomplete_dir, save_overcomplete,
                                                   train_overcomplete)

    return save_overcomplete(train_overcomplete(OvercompleteConfig()), default_overcomplete_dir(root))


def ship_pretrain(root=None):
    """Stored pre-training results beside the two encoders the Pre-train page opens on."""
    from explorer.checkpoints import checkpoint_root, load_checkpoint
    from explorer.datasets import load_dataset
    from explorer.experiments.pretrain import run_pretrain, save_results

    dataset = load_dataset("mnist5k")
    for name in ("conv-ae-d16", "mlp-ae-d16"):
        path = Path(root or checkpoint_root()) / "mnist5k" / name
        model, _ = load_checkpoint(path, dataset.image_shape)
        save_results(run_pretrain(model, dataset, seeds=(0, 1, 2), steps=300), path, {"steps": 300, "seeds": 3})
    return path.parent


# The experiments' shipped results, retrained after the models they build on.
EXPERIMENTS = {"sprites/experiments/swap": ship_swap, "sprites/experiments/disentangle": ship_disentangle,
               "mnist5k/pretrain": ship_pretrain, "mnist5k/experiments/overcomplete": ship_overcomplete}


def train_shipped(root=None, only: str | None = None) -> None:
    from explorer.checkpoints import Checkpoint
    from explorer.pipeline import train_checkpoint
    from explorer.project import precompute

    for r in RECIPES:
        if only and only not in r.key:
            continue
        config = TrainConfig(epochs=r.epochs, batch_size=r.batch_size, lr=r.lr)
        path, m, result = train_checkpoint(r.dataset, r.family, r.dim, config, r.options, root=root)
        ckpt = Checkpoint(path)
        precompute(ckpt)  # the app opens on stored maps instead of computing UMAP on first view
        if ckpt.pca_path not in (None, ckpt.path):
            precompute(ckpt.pca())
        print(f"{r.key:<28} held-out error {m['recon_sse']:8.2f}  PCA {m['pca_recon_sse']:8.2f}  "
              f"ratio {m['recon_sse'] / m['pca_recon_sse']:.3f}  {result.seconds:6.1f} s", flush=True)
    for key, ship in EXPERIMENTS.items():
        if not only or only in key:
            print(f"{key:<28} saved {ship(root)}", flush=True)
