"""The checkpoints shipped with the app, and the recipe that trains them (`explorer ship`)."""

from __future__ import annotations

from dataclasses import dataclass, field

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


def shipped_experiments() -> dict:
    """The experiments' shipped results, retrained after the models they build on: where each is stored under the
    checkpoint root -> its ship(root), from the experiments' table."""
    from explorer.experiments.base import experiments

    return {exp.shipped: exp.ship_default for exp in experiments().values() if exp.shipped}


def train_shipped(root=None, only: str | None = None) -> None:
    from explorer.checkpoints import Checkpoint
    from explorer.pipeline import train_checkpoint

    for r in RECIPES:
        if only and only not in r.key:
            continue
        config = TrainConfig(epochs=r.epochs, batch_size=r.batch_size, lr=r.lr)
        path, m, result = train_checkpoint(r.dataset, r.family, r.dim, config, r.options, root=root)
        ckpt = Checkpoint(path)
        ckpt.store_maps()  # the app opens on stored maps instead of computing UMAP on first view
        if ckpt.pca_path not in (None, ckpt.path):
            ckpt.pca().store_maps()
        print(f"{r.key:<28} held-out error {m['recon_sse']:8.2f}  PCA {m['pca_recon_sse']:8.2f}  "
              f"ratio {m['recon_sse'] / m['pca_recon_sse']:.3f}  {result.seconds:6.1f} s", flush=True)
    for key, ship in shipped_experiments().items():
        if not only or only in key:
            print(f"{key:<28} saved {ship(root)}", flush=True)
