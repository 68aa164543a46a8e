"""From a spot on a 2-D map back to a latent code, fast enough for a live click.

PCA maps invert linearly: z = mean + p @ components, the point of the map's 2-D plane in code space. That
is the code itself only when d = 2; for d > 2 the d - 2 directions the map does not show are left at the
mean, so a spot decodes to something between its images (measured in the README).
UMAP and t-SNE maps have no cheap inverse (umap-learn's inverse_transform triangulates per call
and takes seconds), so we interpolate the codes of the map points around the clicked spot:
inverse-distance weights over the k nearest 2-D points, found with a KD-tree built once.
The result is a convex combination of real codes, and exactly the stored code on a data point.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from explorer.errors import ExplorerError


def _as_points(points, dim: int = 2) -> np.ndarray:
    p = np.atleast_2d(np.asarray(points, dtype=np.float64))  # (n, dim)
    if p.ndim != 2 or p.shape[1] != dim:
        raise ExplorerError(f"points must have shape (n, {dim}), got {np.shape(points)}")
    return p


class LinearInverse:
    """Inverse of an affine 2-D projection onto its plane: z = mean + p @ components (identity when d = 2)."""

    def __init__(self, mean: np.ndarray, components: np.ndarray):
        self.mean = np.asarray(mean, dtype=np.float64)  # (d,)
        self.components = np.asarray(components, dtype=np.float64)  # (2, d), orthonormal rows

    @classmethod
    def identity(cls, d: int = 2) -> LinearInverse:
        return cls(np.zeros(d), np.eye(2, d))

    def __call__(self, points) -> np.ndarray:
        return (self.mean + _as_points(points) @ self.components).astype(np.float32)  # (n, d)


class NeighborInverse:
    """Inverse-distance-weighted mean of the codes of the k map points nearest to a spot.

    Also used the other way round (keys = codes, values = map points) to place codes on a fitted map."""

    def __init__(self, points: np.ndarray, codes: np.ndarray, k: int = 8, power: float = 2.0):
        points, codes = np.asarray(points, dtype=np.float64), np.asarray(codes, dtype=np.float32)
        if len(points) != len(codes) or len(points) == 0:
            raise ExplorerError(f"need one code per map point, got {len(points)} points and {len(codes)} codes")
        self.tree = cKDTree(points)  # built once; a query is O(k log N)
        self.codes = codes  # (N, d)
        self.k, self.power = min(k, len(points)), power

    def weights(self, points) -> tuple[np.ndarray, np.ndarray]:
        """Neighbour ids (n, k) and their weights (n, k): non-negative, summing to 1 per row."""
        dist, idx = self.tree.query(_as_points(points, self.tree.m), k=self.k)
        dist, idx = dist.reshape(len(idx), -1), idx.reshape(len(idx), -1)
        scale = max(float(np.median(dist[:, -1])), 1e-12)  # keeps weights finite and unit-free
        w = 1.0 / np.maximum(dist / scale, 1e-9) ** self.power
        exact = dist[:, 0] <= 1e-9 * scale  # on a data point: its own code, nothing mixed in
        w[exact] = 0.0
        w[exact, 0] = 1.0
        return idx, w / w.sum(1, keepdims=True)

    def __call__(self, points) -> np.ndarray:
        idx, w = self.weights(points)
        return np.einsum("nk,nkd->nd", w, self.codes[idx]).astype(np.float32)  # (n, d)


def grid_points(x_range: tuple[float, float], y_range: tuple[float, float], n: int) -> np.ndarray:
    """An n x n grid of map points, row by row from the top (largest y) so it tiles like the map."""
    xs = np.linspace(*x_range, n)
    ys = np.linspace(*y_range, n)[::-1]
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])  # (n * n, 2)


def interpolate(z0, z1, steps: int, kind: str = "linear") -> np.ndarray:
    """Codes from z0 to z1 (both ends included): straight ("linear") or along the great circle ("spherical").

    Spherical interpolation (Shoemake's slerp, as White 2016 suggests for latent spaces) keeps the
    norm from sagging in the middle, where Gaussian-prior codes rarely lie.
    """
    z0, z1 = np.asarray(z0, dtype=np.float64).ravel(), np.asarray(z1, dtype=np.float64).ravel()
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    if kind == "linear":
        return ((1 - t) * z0 + t * z1).astype(np.float32)
    if kind != "spherical":
        raise ExplorerError(f"unknown interpolation {kind!r}; use 'linear' or 'spherical'")
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-12 or n1 < 1e-12:
        return interpolate(z0, z1, steps, "linear")
    omega = np.arccos(np.clip(z0 @ z1 / (n0 * n1), -1.0, 1.0))  # angle between the codes
    if omega < 1e-6:  # (nearly) parallel: slerp degenerates to lerp
        return interpolate(z0, z1, steps, "linear")
    return ((np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)).astype(np.float32)
