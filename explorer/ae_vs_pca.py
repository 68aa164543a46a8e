"""AE vs PCA per image: where the autoencoder beats its PCA baseline, and whether it sees the same neighbours.

Two measures per image, taken on a random sample of at most SAMPLE_MAX images (every image of a small set):
- error difference: the image's reconstruction error (sum of squares) under the model minus under the PCA
  baseline at the same d; negative where the autoencoder reconstructs it better.
- neighbour agreement: the share of the image's k nearest neighbours in the model's code space that are also
  among its k nearest in another space (PCA's code space, or pixel space): 1 where both spaces rank the same
  images nearest, about k / (n - 1) where the spaces are unrelated.

Neighbours are searched exactly within the sample (explorer.neighbors: one (batch, n) block of distances at a
time, never n x n), so the cost is set by the sample, not the dataset: at a million images nothing grows but
the (N,) colour arrays. The sample is also kept small enough that its pixels fit in PIXEL_VALUES floats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.datasets.images import Images
from explorer.errors import ExplorerError
from explorer.evaluate import reconstruction_errors
from explorer.models.base import Autoencoder
from explorer.neighbors import NeighborIndex

SAMPLE_MAX = 10_000  # images measured at most: exact kNN among 20,000 images' pixels took 19 s here, 10,000 take 5
PIXEL_VALUES = 40_000_000  # floats of sampled pixels held at once (160 MB): 64 x 64 colour images sample 3,255
K = 10


@dataclass
class PerImage:
    """The two measures at the sampled rows (sorted dataset row ids)."""

    rows: np.ndarray  # (m,)
    n_total: int  # images in the dataset
    k: int
    model_error: np.ndarray  # (m,) sum of squared errors under the model
    pca_error: np.ndarray  # (m,) the same under PCA
    agree_pca: np.ndarray  # (m,) in [0, 1]: shared neighbours, model codes vs PCA codes
    agree_pixels: np.ndarray  # (m,) in [0, 1]: shared neighbours, model codes vs pixels

    @property
    def difference(self) -> np.ndarray:
        return self.model_error - self.pca_error

    @property
    def sampled(self) -> bool:
        return len(self.rows) < self.n_total

    @property
    def chance(self) -> float:
        """The agreement expected of two unrelated spaces: k of the n - 1 other images, drawn at random."""
        return self.k / max(len(self.rows) - 1, 1)

    def on_all(self, values: np.ndarray) -> np.ndarray:
        """(n_total,) values at the measured rows and NaN elsewhere: a map colour for every image."""
        out = np.full(self.n_total, np.nan)
        out[self.rows] = values
        return out

    def extremes(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions (into rows) of the n images where the model helps most (lowest difference first) and least
        (highest first)."""
        order = np.argsort(self.difference, kind="stable")
        n = min(n, len(order))
        return order[:n], order[::-1][:n]


def symmetric_range(values: np.ndarray, percentile: float = 99) -> tuple[float, float]:
    """(-m, m) with m the percentile of |values|: a diverging scale centred at 0 that a few outliers do not wash out."""
    m = float(np.percentile(np.abs(values), percentile)) if len(values) else 0.0
    return -(m or 1.0), m or 1.0


def sample_size(n: int, pixels_per_image: int, cap: int = SAMPLE_MAX, pixel_values: int = PIXEL_VALUES) -> int:
    """How many images to measure: all of a small set, else at most cap and at most pixel_values floats of pixels."""
    return int(min(n, cap, max(2, pixel_values // max(pixels_per_image, 1))))


def sample_rows(n: int, m: int, seed: int = 0) -> np.ndarray:
    """m distinct row ids of range(n), sorted (sorted rows read a memory-mapped store in order); all when m >= n."""
    if m >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))


def nearest(vectors: np.ndarray, k: int) -> np.ndarray:
    """(n, k) row ids of each row's k nearest other rows (euclidean, exact), nearest first."""
    vectors = np.asarray(vectors, dtype=np.float32)
    index = NeighborIndex(method="exact").fit(vectors)
    return index.query(vectors, k, exclude=np.arange(len(vectors)))[0]


def agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) share of each row's neighbours in a (n, k) that are also among its neighbours in b (n, k)."""
    return (a[:, :, None] == b[:, None, :]).any(axis=2).mean(axis=1)  # n k^2 comparisons: 2 M at 20,000 x 10


def per_image(model: Autoencoder, pca: Autoencoder, images: Images, codes, pca_codes, k: int = K,
              cap: int = SAMPLE_MAX, seed: int = 0) -> PerImage:
    """Both measures on a sample of the images (all of them when they are few enough; see sample_size).

    codes, pca_codes: (N, d) the model's and PCA's codes of every image (e.g. memory-mapped, stored beside the
    checkpoints); only the sampled rows are read."""
    n = len(images)
    m = sample_size(n, int(np.prod(images.shape[1:])), cap)
    if m < k + 1:
        raise ExplorerError(f"need more than k = {k} images to compare neighbours, got {m}")
    rows = sample_rows(n, m, seed)
    subset = images.take(rows)
    own = nearest(np.asarray(codes[rows]), k)
    in_pca = nearest(np.asarray(pca_codes[rows]), k)
    in_pixels = nearest(subset[:].flatten(1).numpy(), k)  # the sample's pixels: at most PIXEL_VALUES floats
    return PerImage(rows=rows, n_total=n, k=k, model_error=reconstruction_errors(model, subset),
                    pca_error=reconstruction_errors(pca, subset), agree_pca=agreement(own, in_pca),
                    agree_pixels=agreement(own, in_pixels))
