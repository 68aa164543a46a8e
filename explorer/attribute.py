"""Attribute vectors from two selections on a map: the mean code of group B minus that of group A, and what
adding it to an image's code measurably does.

The measure never scores the vector on the images it was built from: it is rebuilt from the selections'
training-split images and applied to their held-out A images (explorer.experiments.analogies does the code
arithmetic). Each edited image is decoded, encoded again and read by a k-nearest-neighbour classifier trained
to tell the training A codes from the training B codes; where the dataset has known factors, a linear
regression from codes to each factor reads how far the edit moved it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from explorer.datasets import Dataset
from explorer.errors import ExplorerError
from explorer.evaluate import decode_all, encode_all, evenly_spaced
from explorer.experiments.analogies import group_vector
from explorer.models.base import Autoencoder

MEASURE_MAX = 500  # held-out A images edited to measure a vector (evenly spaced): a second or two on a CPU
CLASSIFIER_MAX = 5_000  # training codes per group the A-vs-B classifier is fitted on
FACTOR_MAX = 20_000  # training codes the code -> factor regressions are fitted on


def as_mask(n: int, rows) -> np.ndarray:
    """Row ids -> a boolean mask over n rows (ids out of range are an error, not silently dropped)."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) and (rows.min() < 0 or rows.max() >= n):
        raise ExplorerError(f"selected rows must lie in 0 .. {n - 1}; pick the groups on this dataset's map again")
    mask = np.zeros(n, bool)
    mask[rows] = True
    return mask


def selection_vector(codes: np.ndarray, rows_a, rows_b) -> np.ndarray:
    """The attribute vector of two selections: mean code of B minus mean code of A, (N, d) -> (d,)."""
    return group_vector(codes, as_mask(len(codes), rows_b), as_mask(len(codes), rows_a))


@dataclass
class SelectionEffect:
    strength: float
    read_as_b: float  # share of held-out A images, edited with strength x vector, that the classifier reads as B
    base_read_as_b: float  # the same share at strength 0 (their plain reconstructions)
    b_read_as_b: float | None  # held-out B images' reconstructions read as B: what "reads as B" reaches at best
    n_measured: int  # held-out A images edited
    n_train: tuple[int, int]  # training images of A and of B the vector and classifier come from
    k: int
    factor_shift: dict[str, float] = field(default_factory=dict)  # factor: mean read change, edited minus plain
    factor_gap: dict[str, float] = field(default_factory=dict)  # factor: mean of B's images minus A's
    factor_r2: dict[str, float] = field(default_factory=dict)  # factor: held-out R^2 of its code -> factor regression


def _split(dataset: Dataset, rows) -> tuple[np.ndarray, np.ndarray]:
    """A selection's training rows and held-out rows."""
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    held_out = np.isin(rows, dataset.test_idx)
    return rows[~held_out], rows[held_out]


def _capped(rows: np.ndarray, limit: int) -> np.ndarray:
    return rows[evenly_spaced(len(rows), limit)]


def _reencoded(model: Autoencoder, z: torch.Tensor, vector: torch.Tensor, strength: float) -> np.ndarray:
    """Codes of the images decoded from z + strength * vector."""
    return encode_all(model, decode_all(model, z + strength * vector)).numpy()


def selection_effect(model: Autoencoder, dataset: Dataset, codes: np.ndarray, rows_a, rows_b,
                     strength: float = 1.0, k: int = 5) -> SelectionEffect:
    """Measure the A -> B vector of two selections (dataset row ids) on held-out A images; see the module doc.
    codes: the model's codes of every image (N, d)."""
    from sklearn.neighbors import KNeighborsClassifier

    (train_a, test_a), (train_b, test_b) = _split(dataset, rows_a), _split(dataset, rows_b)
    if len(train_a) == 0 or len(train_b) == 0:
        raise ExplorerError("each group needs training-split images to build the vector from; select larger areas")
    if len(test_a) == 0:
        raise ExplorerError("group A has no held-out images to measure the vector on; select a larger area for A")
    train_a, train_b = _capped(train_a, CLASSIFIER_MAX), _capped(train_b, CLASSIFIER_MAX)
    vector = torch.as_tensor(selection_vector(codes, train_a, train_b), dtype=torch.float32)
    k = min(k, len(train_a) + len(train_b))
    knn = KNeighborsClassifier(n_neighbors=k).fit(np.concatenate([codes[train_a], codes[train_b]]),
                                                  np.r_[np.zeros(len(train_a)), np.ones(len(train_b))])
    measured = _capped(test_a, MEASURE_MAX)
    z = encode_all(model, dataset.images.take(measured))
    edited, plain = _reencoded(model, z, vector, strength), _reencoded(model, z, vector, 0.0)
    b_rate = None
    if len(test_b):
        z_b = encode_all(model, dataset.images.take(_capped(test_b, MEASURE_MAX)))
        b_rate = float(knn.predict(_reencoded(model, z_b, vector, 0.0)).mean())
    effect = SelectionEffect(strength, float(knn.predict(edited).mean()), float(knn.predict(plain).mean()), b_rate,
                             len(measured), (len(train_a), len(train_b)), k)
    _measure_factors(effect, dataset, codes, np.r_[train_a, test_a], np.r_[train_b, test_b], edited, plain)
    return effect


def _measure_factors(effect: SelectionEffect, dataset: Dataset, codes: np.ndarray, rows_a: np.ndarray,
                     rows_b: np.ndarray, edited: np.ndarray, plain: np.ndarray) -> None:
    """For each known factor: how far the edit moves it, as a linear regression from codes reads it."""
    from sklearn.linear_model import Ridge

    fit_rows = _capped(dataset.train_idx, FACTOR_MAX)
    scored = _capped(dataset.test_idx, FACTOR_MAX)
    for name, values in dataset.factors.items():
        values = np.asarray(values, dtype=np.float64)
        reg = Ridge(alpha=1e-3).fit(codes[fit_rows], values[fit_rows])
        effect.factor_r2[name] = float(reg.score(codes[scored], values[scored]))
        effect.factor_shift[name] = float((reg.predict(edited) - reg.predict(plain)).mean())
        effect.factor_gap[name] = float(values[rows_b].mean() - values[rows_a].mean())
