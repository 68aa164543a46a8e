"""The Similar page's three spaces (the model's codes, PCA's codes at the same d, raw pixels) and how each is
searched: which index to use, what identifies it for a cache, and the vector a query becomes in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from explorer.errors import ExplorerError
from explorer.evaluate import encode_all
from explorer.models.base import Autoencoder
from explorer.neighbors import APPROX_THRESHOLD, SEARCH_METHODS
from explorer.project import fingerprint

PIXEL_SEARCH_MAX = 100_000_000  # values (images x pixels) up to which raw pixels are searched (exactly, in memory)


@dataclass
class Space:
    """One space to search: vectors (N, D) of every image, and how a new image gets there."""

    title: str
    vectors: np.ndarray
    encoder: Autoencoder | None = None  # None: raw pixels, a new image is its own vector
    ckpt_dir: Path | None = None  # where a stored approximate index lives; None for pixels

    def cache_key(self, spec: str, options: tuple, name: str) -> tuple:
        """Pixels depend on the dataset alone; codes also on the model (the fingerprint catches a retrained one)."""
        model_part = () if self.encoder is None else (str(self.ckpt_dir), fingerprint(self.vectors))
        return (spec, options, name) + model_part

    def query_vector(self, row: int | None, image: torch.Tensor | None) -> np.ndarray:
        """A dataset row's own vector, or a new image (C, H, W) flattened or encoded."""
        if row is not None:
            return self.vectors[row]
        if self.encoder is None:
            return image.flatten().numpy()
        return encode_all(self.encoder, image[None]).numpy()[0]


def pixels_searchable(n_images: int, image_shape) -> bool:
    """Raw pixels are held in memory and searched exactly only up to PIXEL_SEARCH_MAX values."""
    return n_images * int(np.prod(image_shape)) <= PIXEL_SEARCH_MAX


def wants_approximate(n: int, method: str) -> bool:
    """Whether `method` (one of neighbors.SEARCH_METHODS) asks for the approximate index for n vectors."""
    if method not in SEARCH_METHODS:
        raise ExplorerError(f"unknown search method {method!r}; choose one of {', '.join(SEARCH_METHODS)}")
    return method == "approximate" or (method == "auto" and n > APPROX_THRESHOLD)


def builds_at_once(n: int) -> bool:
    """A missing approximate index of n vectors is built without asking when it takes a moment."""
    return n <= APPROX_THRESHOLD
