"""dSprites-like images generated here: one white shape on black with known factors.

Factors (every image carries its values):
  shape     0 square, 1 ellipse, 2 heart, 3 triangle
  scale     6 values in [0.5, 1]
  rotation  40 values in [0, 2 pi)
  x, y      16 positions each in [0, 1] (left to right, top to bottom)
"""

from __future__ import annotations

import numpy as np

from explorer.datasets.base import make_dataset

SHAPES = ["square", "ellipse", "heart", "triangle"]
FACTOR_VALUES = {
    "shape": np.arange(len(SHAPES), dtype=np.float32),
    "scale": np.linspace(0.5, 1.0, 6, dtype=np.float32),
    "rotation": np.linspace(0, 2 * np.pi, 40, endpoint=False, dtype=np.float32),
    "x": np.linspace(0, 1, 16, dtype=np.float32),
    "y": np.linspace(0, 1, 16, dtype=np.float32),
}
FACTOR_NAMES = list(FACTOR_VALUES)
SUPERSAMPLE = 2  # sub-pixels per axis, for anti-aliased edges
BASE_RADIUS = 0.2  # half-size of a scale-1 shape, as a fraction of the image side


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether shape-local points (u, v), in units of the shape's radius, lie inside the shape."""
    if shape == 0:  # square
        return (np.abs(u) <= 0.85) & (np.abs(v) <= 0.85)
    if shape == 1:  # ellipse, long axis horizontal
        return u**2 + (v / 0.55) ** 2 <= 1.0
    if shape == 2:  # heart curve (x^2 + y^2 - 1)^3 <= x^2 y^3, y up
        hu, hv = u * 1.15, -v * 1.15 + 0.15
        return (hu**2 + hv**2 - 1) ** 3 - hu**2 * hv**3 <= 0
    # equilateral triangle pointing up, circumradius 1
    return (v <= 0.5) & (np.sqrt(3) * u - v <= 1.0) & (-np.sqrt(3) * u - v <= 1.0)


def render(factors: dict[str, np.ndarray], size: int = 32) -> np.ndarray:
    """Render images (N, 1, size, size) in [0, 1] from factor values (each an (N,) array)."""
    n = len(factors["shape"])
    s = size * SUPERSAMPLE
    grid = (np.arange(s, dtype=np.float32) + 0.5) / s  # sub-pixel centres in [0, 1]
    out = np.empty((n, 1, size, size), dtype=np.float32)
    margin = BASE_RADIUS * 1.05  # keeps the largest shape inside the frame
    for shape in range(len(SHAPES)):
        ids = np.flatnonzero(factors["shape"].astype(int) == shape)
        for start in range(0, len(ids), 256):  # chunks keep memory small at 64 x 64
            sl = ids[start : start + 256]
            radius = (BASE_RADIUS * factors["scale"][sl])[:, None, None]
            rot = factors["rotation"][sl][:, None, None]
            cx = (margin + factors["x"][sl] * (1 - 2 * margin))[:, None, None]
            cy = (margin + factors["y"][sl] * (1 - 2 * margin))[:, None, None]
            dx = (grid[None, None, :] - cx) / radius
            dy = -(grid[None, :, None] - cy) / radius  # image rows grow downwards; v grows up
            cos, sin = np.cos(rot), np.sin(rot)
            mask = _inside(shape, cos * dx + sin * dy, -sin * dx + cos * dy).astype(np.float32)
            out[sl, 0] = mask.reshape(len(sl), size, SUPERSAMPLE, size, SUPERSAMPLE).mean(axis=(2, 4))
    return out


def sample_factors(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """n factor combinations drawn uniformly from the discrete grid."""
    rng = np.random.default_rng(seed)
    return {name: values[rng.integers(0, len(values), n)] for name, values in FACTOR_VALUES.items()}


def load_sprites(n: int = 10000, size: int = 32, seed: int = 0):
    """n sprites of size x size; labels are the shapes, factors all five values."""
    factors = sample_factors(n, seed)
    images = render(factors, size)
    return make_dataset("sprites", images, factors["shape"].astype(np.int64), SHAPES, factors=factors)
