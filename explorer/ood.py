"""Out-of-distribution gauge: can the model represent a new image at all?

A query's reconstruction error is placed among the held-out images' errors as a percentile; above
FLAG_PERCENTILE the model is said not to represent it (its code, and so its neighbours, mean little).
The same is done for PCA at the same d, and the query is placed on both 2-D maps: the model's stored map
(Projection.transform: exact for PCA and direct maps, neighbour-weighted for UMAP and t-SNE) and the PCA
baseline's own map (its first two components).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.datasets import Dataset
from explorer.errors import ExplorerError
from explorer.evaluate import encode_all, evenly_spaced, reconstruction_errors
from explorer.models.base import Autoencoder
from explorer.project import Projection

REFERENCE_MAX = 10_000  # held-out errors scored for the reference (evenly spaced): seconds, cached per checkpoint
FLAG_PERCENTILE = 99.0  # a query whose error is above this percentile of held-out errors is flagged


def error_percentile(reference: np.ndarray, errors) -> np.ndarray:
    """Percent of the reference errors at or below each error: always in [0, 100]."""
    ref = np.sort(np.asarray(reference, dtype=np.float64))
    if len(ref) == 0:
        raise ExplorerError("no held-out errors to compare with; the dataset has no held-out split")
    return 100.0 * np.searchsorted(ref, np.asarray(errors, dtype=np.float64), side="right") / len(ref)


@dataclass(frozen=True)
class ErrorReference:
    """Held-out reconstruction errors of one model, sorted, and the error above which a query is flagged."""

    errors: np.ndarray  # (n,) sum of squared errors per image, sorted
    n_held_out: int  # held-out images in the dataset (errors may be an evenly spaced sample of them)
    percentile_cut: float = FLAG_PERCENTILE

    @property
    def threshold(self) -> float:
        return float(np.percentile(self.errors, self.percentile_cut))

    def percentile(self, errors) -> np.ndarray:
        return error_percentile(self.errors, errors)

    def flagged(self, errors) -> np.ndarray:
        return np.asarray(errors, dtype=np.float64) > self.threshold


def held_out_reference(model: Autoencoder, dataset: Dataset, limit: int = REFERENCE_MAX,
                       rows: np.ndarray | None = None) -> ErrorReference:
    """The errors of up to `limit` evenly spaced held-out images (or of dataset rows `rows`)."""
    rows = dataset.test_idx if rows is None else np.asarray(rows)
    picked = rows[evenly_spaced(len(rows), limit)]
    errors = reconstruction_errors(model, dataset.images.take(picked))
    return ErrorReference(np.sort(errors), len(dataset.test_idx))


@dataclass
class Gauge:
    """Where a query lands and how well each model represents it."""

    error: float  # the model's reconstruction error of the query (sum of squares)
    percentile: float  # of the held-out errors, in [0, 100]
    flagged: bool  # above the reference's percentile cut: the model cannot represent it
    spot: tuple[float, float]  # on the model's map
    pca_error: float | None = None
    pca_percentile: float | None = None
    pca_flagged: bool | None = None
    pca_spot: tuple[float, float] | None = None


def measure(image: torch.Tensor, model: Autoencoder, reference: ErrorReference, model_map: Projection,
            pca: Autoencoder | None = None, pca_reference: ErrorReference | None = None) -> Gauge:
    """Gauge one query image (C, H, W) against a model (and PCA at the same d, when given)."""
    x = image[None]
    error = float(reconstruction_errors(model, x)[0])
    spot = model_map.transform(encode_all(model, x).numpy())[0]
    gauge = Gauge(error, float(reference.percentile(error)), bool(reference.flagged(error)),
                  (float(spot[0]), float(spot[1])))
    if pca is not None and pca_reference is not None:
        pca_error = float(reconstruction_errors(pca, x)[0])
        pca_code = encode_all(pca, x).numpy()[0]  # PCA's map is its first two components (project.baseline_points)
        gauge.pca_error, gauge.pca_spot = pca_error, (float(pca_code[0]), float(pca_code[1]))
        gauge.pca_percentile = float(pca_reference.percentile(pca_error))
        gauge.pca_flagged = bool(pca_reference.flagged(pca_error))
    return gauge


def verdict(gauge: Gauge, model_name: str, reference: ErrorReference) -> str | None:
    """One plain line when the model cannot represent the query; None when it can."""
    if not gauge.flagged:
        return None
    return (f"{model_name} cannot represent this image: its reconstruction error {gauge.error:.1f} is above "
            f"{reference.percentile_cut:g} % of held-out images' (above {reference.threshold:.1f}). It is unlike "
            "the data the model learnt, so its place on the map and its neighbours below mean little.")
