"""Reconstruction likelihoods: Bernoulli for near-binary images, Gaussian for natural ones.

Binary cross-entropy suits digits, whose pixels sit near 0 or 1, but fits photographs poorly; squared
error (a Gaussian likelihood) fits them. `choose_loss` decides from the training pixels.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from explorer.errors import ExplorerError

LOSSES = ("bernoulli", "gaussian")
NEAR_BINARY = 0.1  # a pixel this close to 0 or 1 counts as binary
BINARY_SHARE = 0.8  # images with at least this share of binary pixels get the Bernoulli likelihood
SAMPLE = 2000  # images looked at to decide


def binary_share(x: torch.Tensor) -> float:
    """Share of pixels within NEAR_BINARY of 0 or 1, over (at most) the first SAMPLE images."""
    x = x[:SAMPLE]
    x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
    return float(((x < NEAR_BINARY) | (x > 1 - NEAR_BINARY)).float().mean())


def choose_loss(x: torch.Tensor, requested: str = "auto") -> str:
    """'bernoulli' or 'gaussian': the requested one, or for 'auto' the one that fits the pixels of x."""
    if requested != "auto":
        if requested not in LOSSES:
            raise ExplorerError(f"unknown loss {requested!r}; choose auto, {' or '.join(LOSSES)}")
        return requested
    return "bernoulli" if binary_share(x) >= BINARY_SHARE else "gaussian"


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of each image's summed binary cross-entropy, in nats."""
    return nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()


def sse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of each image's sum of squared errors."""
    return (x_hat - x).pow(2).flatten(1).sum(1).mean()


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of each image's negative log-likelihood under N(mean, sigma^2 I), in nats."""
    n_pixels = x[0].numel()
    return (0.5 * sse(mean, x) * torch.exp(-2 * log_sigma)
            + n_pixels * (log_sigma + 0.5 * math.log(2 * math.pi)))
