"""One interface for every model, the PCA baseline included: encode, decode, code size, named losses.

Each family lives in its own file and registers itself with @register("name"), so adding a
model is one new file. The config is saved with the weights, so a checkpoint rebuilds its model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import torch
from torch import nn

from explorer.errors import ExplorerError
from explorer.models.likelihood import LOSSES, sse

MODELS: dict[str, type["Autoencoder"]] = {}


def register(name: str):
    def wrap(cls):
        cls.family = name
        MODELS[name] = cls
        return cls

    return wrap


@dataclass
class ModelConfig:
    family: str
    image_shape: tuple[int, int, int]  # (C, H, W)
    dim: int  # code size d
    hidden: tuple[int, ...] = (256, 128)  # MLP widths, encoder side
    channels: tuple[int, ...] = (32, 64, 128)  # conv widths per stride-2 stage
    conv_fc: tuple[int, ...] = ()  # fully connected widths between the conv features and the code
    backbone: str = "mlp"  # "mlp" or "conv", for the sparse, denoising and vae families
    l1_weight: float = 1e-3  # sparse-ae: weight of the L1 penalty on the code
    top_k: int | None = None  # sparse-ae: keep each image's k largest code units; None: a quarter, 0: every unit
    noise: str = "gaussian"  # denoising-ae: gaussian, salt-pepper or masking
    noise_level: float = 0.3
    beta: float = 1.0  # vae: weight of the KL term
    loss: str = "bernoulli"  # reconstruction likelihood of the deep families: bernoulli or gaussian
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.top_k is None:
            self.top_k = self.dim // 4 if self.family == "sparse-ae" else 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ExplorerError(f"model config has unknown keys {sorted(unknown)}; the checkpoint is from another version")
        d = {"top_k": 0, **d}  # configs saved before top_k existed kept every unit
        for key in ("image_shape", "hidden", "channels", "conv_fc"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    @property
    def n_pixels(self) -> int:
        c, h, w = self.image_shape
        return c * h * w


class Autoencoder(nn.Module):
    """Base class. Subclasses define encode / decode and, if needed, loss."""

    family = "base"
    is_trainable = True  # PCA is fitted in closed form instead
    decays = False  # weight decay: only for the plain deep autoencoders (see explorer.models.mlp)
    baseline = False  # True for PCA: the baseline itself (no "vs PCA" difference to show)
    samples_prior = False  # True for the VAE: codes have a N(0, I) prior, and sample(n) draws from it

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config

    @property
    def dim(self) -> int:
        return self.config.dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, d)
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # (B, d) -> (B, C, H, W)
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named loss terms for a batch; 'loss' is the one to minimise. Sums are per image, means over the batch."""
        recon = sse(self(x), x)
        return {"loss": recon, "recon": recon}


def build_model(config: ModelConfig) -> Autoencoder:
    import explorer.models  # noqa: F401  (registers every family)

    if config.family not in MODELS:
        raise ExplorerError(f"unknown model {config.family!r}; choose one of {', '.join(MODELS)}")
    if config.loss not in LOSSES:
        raise ExplorerError(f"unknown loss {config.loss!r}; choose {' or '.join(LOSSES)}")
    return MODELS[config.family](config)
