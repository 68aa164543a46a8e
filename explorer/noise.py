"""Input corruptions for denoising: Gaussian, salt-and-pepper and masking (dropout) noise."""

from __future__ import annotations

import torch

NOISE_KINDS = ("gaussian", "salt-pepper", "masking")


def corrupt(
    x: torch.Tensor, kind: str = "gaussian", level: float = 0.3, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A corrupted copy of images x in [0, 1].

    gaussian: add N(0, level^2) and clip; salt-pepper: a `level` fraction of pixels set to 0 or 1;
    masking: a `level` fraction of pixels set to 0.
    """
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return (x + level * noise).clamp(0, 1)
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    if kind == "masking":
        return x * (u >= level)
    if kind == "salt-pepper":
        salt = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) < 0.5
        return torch.where(u < level, salt.to(x.dtype), x)
    raise ValueError(f"unknown noise {kind!r}; choose one of {', '.join(NOISE_KINDS)}")
