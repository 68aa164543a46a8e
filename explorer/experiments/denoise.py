"""Denoising: corrupt held-out images, then compare how a denoising AE, a plain AE and PCA restore them.

The denoising AE was trained to map corrupted inputs to the CLEAN image; the plain AE (same
architecture) and PCA only ever saw clean images. Scores are against the clean image: PSNR
(10 log10(1 / MSE), pixels in [0, 1]) and SSIM (scikit-image), both averaged over images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from explorer.checkpoints import checkpoint_root, load_checkpoint
from explorer.errors import ExplorerError
from explorer.evaluate import reconstruct
from explorer.experiments.base import Experiment, register
from explorer.models.base import Autoencoder
from explorer.noise import NOISE_KINDS, corrupt

# The shipped trio: method name -> checkpoint folder name (all mnist5k, code size 16, same MLP architecture).
SHIPPED = {"denoising AE": "denoising-ae-d16", "plain AE": "mlp-ae-d16", "PCA": "pca-d16"}
NOISY = "noisy input"  # the corrupted image itself, scored as a method: the floor every denoiser must beat


def psnr(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Mean over images of the peak signal-to-noise ratio in dB, peak value 1."""
    mse = (x_hat.clamp(0, 1) - x).pow(2).flatten(1).mean(1)  # (B,)
    return float((10 * torch.log10(1.0 / mse.clamp_min(1e-10))).mean())


def ssim(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Mean over images of scikit-image's structural similarity (1 = identical)."""
    from skimage.metrics import structural_similarity

    a = x_hat.clamp(0, 1).numpy().astype(np.float64)  # (B, C, H, W)
    b = x.numpy().astype(np.float64)
    win = min(7, *b.shape[-2:]) | 1  # an odd window no larger than the image
    scores = [structural_similarity(p, q, data_range=1.0, channel_axis=0, win_size=win) for p, q in zip(a, b)]
    return float(np.mean(scores))


def load_shipped(spec: str = "mnist5k", root: str | Path | None = None) -> dict[str, Autoencoder]:
    """The shipped denoising AE, plain AE and PCA, keyed by method name."""
    models = {}
    for method, name in SHIPPED.items():
        path = Path(root or checkpoint_root()) / spec / name
        if not (path / "config.json").is_file():
            raise ExplorerError(f"missing checkpoint {path}; train it with `explorer ship --only {spec}/{name}`")
        models[method], _ = load_checkpoint(path)
    return models


@dataclass
class DenoiseResult:
    kind: str
    level: float
    clean: torch.Tensor  # (N, C, H, W)
    noisy: torch.Tensor  # (N, C, H, W)
    outputs: dict[str, torch.Tensor]  # method -> (N, C, H, W) restored from the noisy input
    psnr: dict[str, float]  # method (and NOISY) -> mean dB against the clean images
    ssim: dict[str, float]

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"PSNR (dB)": self.psnr, "SSIM": self.ssim}).rename_axis("method")


def check_noise(kind: str, level: float) -> None:
    if kind not in NOISE_KINDS:
        raise ExplorerError(f"unknown noise {kind!r}; choose one of {', '.join(NOISE_KINDS)}")
    if not 0 <= level <= (1 if kind != "gaussian" else 5):
        raise ExplorerError(f"noise level {level} out of range: a fraction in [0, 1] (gaussian: a std in [0, 5])")


def denoise(models: dict[str, Autoencoder], x: torch.Tensor, kind: str = "gaussian", level: float = 0.4,
            seed: int = 0, with_ssim: bool = True) -> DenoiseResult:
    """Corrupt clean images x with a fixed generator, pass the noisy copies through every model, score each."""
    check_noise(kind, level)
    noisy = corrupt(x, kind, level, generator=torch.Generator().manual_seed(seed))
    outputs = {method: reconstruct(model, noisy) for method, model in models.items()}
    scored = {NOISY: noisy, **outputs}
    return DenoiseResult(kind, level, x, noisy, outputs,
                         psnr={m: psnr(y, x) for m, y in scored.items()},
                         ssim={m: ssim(y, x) for m, y in scored.items()} if with_ssim else {})


def psnr_sweep(models: dict[str, Autoencoder], x: torch.Tensor, kind: str = "gaussian",
               levels=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8), seed: int = 0) -> pd.DataFrame:
    """PSNR of every method (and of the noisy input) at each noise level: long table level, method, psnr."""
    rows = []
    for level in levels:
        result = denoise(models, x, kind, float(level), seed, with_ssim=False)
        rows += [{"level": float(level), "method": m, "psnr": v} for m, v in result.psnr.items()]
    return pd.DataFrame(rows)


TYPICAL_LEVEL = {"gaussian": 0.4, "salt-pepper": 0.2, "masking": 0.3}  # std for gaussian, else a fraction of pixels


def default_level(kind: str, denoiser: Autoencoder) -> float:
    """The denoiser's training level for its own kind of noise; for another kind a typical level of that
    kind (a Gaussian std and a fraction of pixels are not on one scale)."""
    config = denoiser.config
    return float(config.noise_level) if config.noise == kind else TYPICAL_LEVEL[kind]


def default_levels(kind: str) -> list[float]:
    """A sweep that spans clean to heavily corrupted for each kind."""
    return [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8] if kind == "gaussian" else [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]


@dataclass
class DenoiseConfig:
    """The CLI's run: the shipped trio on corrupted held-out mnist5k digits (nothing is trained or saved)."""

    noise: str = field(default="gaussian", metadata={"choices": NOISE_KINDS})
    level: float | None = field(default=None, metadata={"help": "noise level (default: the denoiser's training level "
                                                                "for its own kind of noise, else a typical one)"})
    root: str | None = field(default=None, metadata={"help": "checkpoint root (default $EXPLORER_CHECKPOINTS or "
                                                             "./checkpoints)"})


def denoise_shipped(config: DenoiseConfig, progress=None) -> DenoiseResult:
    from explorer.datasets import load_dataset

    models = load_shipped("mnist5k", config.root)
    level = config.level if config.level is not None else default_level(config.noise, models["denoising AE"])
    return denoise(models, load_dataset("mnist5k").x_test, config.noise, level)


def denoise_report(result: DenoiseResult) -> str:
    return (f"{result.kind} noise, level {result.level}, {len(result.clean)} held-out mnist5k digits\n"
            f"{result.table().round(3).to_string()}")


register(Experiment("denoise", "Denoise", ":material/blur_off:", "denoise", order=10, config=DenoiseConfig,
                    help="PSNR / SSIM of the shipped denoising AE, plain AE and PCA on corrupted held-out digits",
                    run=denoise_shipped, report=denoise_report, train_flags=()))
