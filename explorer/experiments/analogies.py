"""Visual analogies in code space (Reed et al. 2015): a - b + c, and attribute vectors with a strength.

An attribute vector is the mean code of one group minus the mean code of another (one class minus
another, or the high values of a factor minus its low values). On sprites, whose x position is a
known factor, the "move right" vector is measured: the decoded sprite's centroid (from image
moments) must move right by a number of pixels we report.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.datasets import Dataset
from explorer.errors import ExplorerError
from explorer.evaluate import decode_all, encode_all
from explorer.experiments.base import Experiment, register
from explorer.models.base import Autoencoder


def analogy(model: Autoencoder, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Decode code(a) - code(b) + code(c): 'a is to b as ? is to c'. Images (B, C, H, W) -> (B, C, H, W)."""
    za, zb, zc = (encode_all(model, x) for x in (a, b, c))
    return decode_all(model, za - zb + zc)


def group_vector(codes: np.ndarray, to_mask: np.ndarray, from_mask: np.ndarray) -> np.ndarray:
    """Mean code of the `to` group minus the mean code of the `from` group: (N, d) -> (d,)."""
    if not to_mask.any() or not from_mask.any():
        raise ExplorerError("an attribute vector needs at least one image in each group; pick other groups")
    return np.asarray(codes)[to_mask].mean(0) - np.asarray(codes)[from_mask].mean(0)


def class_vector(codes: np.ndarray, labels: np.ndarray, from_class: int, to_class: int) -> np.ndarray:
    """The vector that turns class `from_class` into `to_class` (e.g. a 3 into an 8)."""
    return group_vector(codes, labels == to_class, labels == from_class)


def factor_vector(codes: np.ndarray, values: np.ndarray, quantile: float = 0.25) -> np.ndarray:
    """Mean code of the top `quantile` of a factor's values minus that of the bottom `quantile`."""
    if not 0 < quantile <= 0.5:
        raise ExplorerError(f"quantile {quantile} out of range; use a fraction in (0, 0.5]")
    values = np.asarray(values)
    low, high = np.quantile(values, quantile), np.quantile(values, 1 - quantile)
    return group_vector(codes, values >= high, values <= low)


def apply_vector(model: Autoencoder, x: torch.Tensor, vector, strength: float = 1.0) -> torch.Tensor:
    """Decode code(x) + strength * vector for images x (B, C, H, W)."""
    v = torch.as_tensor(np.asarray(vector), dtype=torch.float32)  # (d,)
    return decode_all(model, encode_all(model, x) + strength * v)


def centroid(images: torch.Tensor) -> torch.Tensor:
    """Intensity-weighted centre (x, y) in pixels of each image from its first moments: (B, C, H, W) -> (B, 2)."""
    mass = images.float().sum(1)  # (B, H, W), channels summed
    h, w = mass.shape[-2:]
    total = mass.flatten(1).sum(1).clamp_min(1e-8)  # (B,)
    cx = (mass.sum(1) * torch.arange(w, dtype=torch.float32)).sum(1) / total  # columns: left to right
    cy = (mass.sum(2) * torch.arange(h, dtype=torch.float32)).sum(1) / total  # rows: top to bottom
    return torch.stack([cx, cy], 1)


@dataclass
class ShiftResult:
    strength: float
    shift_px: float  # mean horizontal centroid shift of decoded images, vector applied minus not
    shift_y_px: float  # mean vertical shift (should stay near 0: the vector should move right, not up or down)
    moved_right: float  # fraction of images whose centroid moved right
    group_gap_px: float  # centroid distance of the real images: high-x group minus low-x group
    n: int


def move_right_shift(model: Autoencoder, dataset: Dataset, strength: float = 1.0, factor: str = "x",
                     quantile: float = 0.25) -> ShiftResult:
    """Measure the 'move right' vector on held-out images.

    The vector comes from the train split (mean code of x in the top quantile minus the bottom one).
    Each held-out image is decoded from its code with and without strength * vector; the shift is
    the difference of the two decoded centroids, so the reconstruction's own error cancels out.
    """
    if factor not in dataset.factors:
        raise ExplorerError(f"{dataset.name} has no known factor {factor!r}; the move-right measure needs sprites")
    values = np.asarray(dataset.factors[factor])
    vector = factor_vector(encode_all(model, dataset.x_train).numpy(), values[dataset.train_idx], quantile)
    x = dataset.x_test
    z = encode_all(model, x)
    v = torch.as_tensor(vector, dtype=torch.float32)
    before, after = centroid(decode_all(model, z)), centroid(decode_all(model, z + strength * v))
    delta = after - before  # (N, 2)
    test_values = values[dataset.test_idx]
    lo, hi = np.quantile(test_values, quantile), np.quantile(test_values, 1 - quantile)
    real = centroid(x)[:, 0].numpy()
    gap = float(real[test_values >= hi].mean() - real[test_values <= lo].mean())
    return ShiftResult(strength, float(delta[:, 0].mean()), float(delta[:, 1].mean()),
                       float((delta[:, 0] > 0).float().mean()), gap, len(x))


@dataclass
class TransferResult:
    strength: float
    rate: float  # fraction of held-out `from` images whose edited decode a kNN on codes calls `to`
    base_rate: float  # the same fraction with strength 0 (the plain reconstruction)
    n: int


def class_transfer(model: Autoencoder, dataset: Dataset, from_class: int, to_class: int,
                   strength: float = 1.0, k: int = 5) -> TransferResult:
    """Measure a class vector: apply it to held-out images of from_class, re-encode the decoded images,
    and count how many a k-nearest-neighbour classifier on the train codes now assigns to to_class."""
    from sklearn.neighbors import KNeighborsClassifier

    if dataset.labels is None:
        raise ExplorerError(f"{dataset.name} has no labels; class vectors need a labelled dataset")
    z_train = encode_all(model, dataset.x_train).numpy()
    vector = class_vector(z_train, dataset.y_train, from_class, to_class)
    x = dataset.x_test[dataset.y_test == from_class]
    if len(x) == 0:
        raise ExplorerError(f"no held-out images of class {from_class}; pick another class")
    knn = KNeighborsClassifier(n_neighbors=k).fit(z_train, dataset.y_train)

    def rate(s: float) -> float:
        edited = apply_vector(model, x, vector, s)
        return float((knn.predict(encode_all(model, edited).numpy()) == to_class).mean())

    return TransferResult(strength, rate(strength), rate(0.0), len(x))


# A page on any checkpoint's codes: nothing to train or store, so no CLI command.
register(Experiment("analogies", "Analogies", ":material/calculate:", "analogies", order=50))
