"""Held-out measures of a representation. scikit-learn does the work where it has the function."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.manifold import trustworthiness as sk_trustworthiness
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors


def recon_sse(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Mean per-image sum of squared errors, pixels in [0, 1] (Hinton & Salakhutdinov 2006)."""
    return float((x_hat - x).pow(2).flatten(1).sum(1).mean())


def recon_mse(x_hat: torch.Tensor, x: torch.Tensor) -> float:
    """Per-pixel mean squared error."""
    return float((x_hat - x).pow(2).mean())


def knn_accuracy(z_train, y_train, z_test, y_test, k: int = 5) -> float:
    """Accuracy of a k-nearest-neighbour classifier fitted on train codes, scored on held-out codes."""
    clf = KNeighborsClassifier(n_neighbors=min(k, len(z_train))).fit(np.asarray(z_train), np.asarray(y_train))
    return float(clf.score(np.asarray(z_test), np.asarray(y_test)))


def trustworthiness(x, z, k: int = 5) -> float:
    """How well code-space neighbours were neighbours in pixel space (1 = perfectly); NaN below 3 images.

    k shrinks on tiny sets, where scikit-learn needs k < n / 2."""
    x = np.asarray(x).reshape(len(x), -1)
    k = min(k, (len(x) - 1) // 2)
    return float(sk_trustworthiness(x, np.asarray(z), n_neighbors=k)) if k >= 1 else float("nan")


def active_fraction(z, threshold: float = 1e-3) -> float:
    """Mean over images of the share of code units that are non-zero (|z| >= threshold) for that image:
    how sparse each image's code is. Units that are never active count here too; see dead_units."""
    return float((np.abs(np.asarray(z)) >= threshold).mean())


def dead_units(z, threshold: float = 1e-3) -> int:
    """Code units never non-zero on any of these images: a sparsity that is only unused units."""
    return int((np.abs(np.asarray(z)) < threshold).all(axis=0).sum())


def precision_at_k(neighbor_labels: np.ndarray, query_labels: np.ndarray) -> float:
    """Mean fraction of each query's k neighbours that share its label. neighbor_labels: (Q, k)."""
    neighbor_labels = np.atleast_2d(neighbor_labels)
    return float((neighbor_labels == np.asarray(query_labels).reshape(-1, 1)).mean())


def leave_one_out_precision(z, labels, k: int = 10) -> float:
    """precision@k of every point's k nearest other points in code space."""
    z = np.asarray(z)
    idx = NearestNeighbors(n_neighbors=k + 1).fit(z).kneighbors(z, return_distance=False)  # (N, k + 1)
    # drop each point itself: with duplicates it need not come first, so remove it by id, else the last
    own = idx == np.arange(len(z))[:, None]
    own[~own.any(1), -1] = True
    others = idx[~own].reshape(len(z), k)
    return precision_at_k(np.asarray(labels)[others], labels)
