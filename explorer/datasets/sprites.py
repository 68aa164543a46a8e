"""dSprites-like images generated here: one white shape on black with known factors.

Factors (every image carries its values):
  shape     0 square, 1 ellipse, 2 heart, 3 triangle
  scale     6 values in [0.5, 1]
  rotation  40 values in [0, 2 pi)
  x, y      16 positions each in [0, 1] (left to right, top to bottom)

A square turned by 90 degrees, or an ellipse by 180, is the same image: sprites are drawn as distinct
combinations with the rotation named canonically (distinct_factors), so a set never holds an image twice
and a held-out set can exclude every training image.
"""

from __future__ import annotations

import hashlib

import numpy as np

from explorer.datasets.base import make_dataset
from explorer.errors import ExplorerError

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
# Rotation steps (of the 40) after which each shape renders the same image, pixel for pixel at 32 x 32 (at 64 x 64
# rounding leaves 3 of 1,536 ellipse poses a sub-pixel apart): a square every 90 degrees, an ellipse every 180.
# The heart has no rotational symmetry; the triangle's (120 degrees = 13.3 steps) is off the grid.
ROTATION_PERIOD = {"square": 10, "ellipse": 20, "heart": 40, "triangle": 40}


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
    """n factor combinations drawn uniformly from the grid WITH replacement: repeats and lookalikes happen.
    Datasets and experiments draw with distinct_factors instead, so that no held-out sprite is a training one."""
    rng = np.random.default_rng(seed)
    return {name: values[rng.integers(0, len(values), n)] for name, values in FACTOR_VALUES.items()}


# ----- distinct combinations ---------------------------------------------------------------------

def factor_indices(factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The grid index (int64) of each factor value, the nearest grid value's."""
    return {name: np.abs(np.asarray(factors[name], np.float32)[:, None] - grid[None]).argmin(1)
            for name, grid in FACTOR_VALUES.items()}


def _codes(idx: dict[str, np.ndarray]) -> np.ndarray:
    """One integer per combination of grid indices, the rotation taken modulo its shape's period."""
    period = np.array([ROTATION_PERIOD[s] for s in SHAPES])[idx["shape"]]
    dims = tuple(len(v) for v in FACTOR_VALUES.values())
    return np.ravel_multi_index((idx["shape"], idx["scale"], idx["rotation"] % period, idx["x"], idx["y"]), dims)


def canonical(factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same combinations with each rotation reduced to its shape's first period (a square's to [0, 90)
    degrees, an ellipse's to [0, 180)): the same images, one name for each."""
    idx = factor_indices(factors)
    period = np.array([ROTATION_PERIOD[s] for s in SHAPES])[idx["shape"]]
    return {**factors, "rotation": FACTOR_VALUES["rotation"][idx["rotation"] % period]}


def symmetric_copies(factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every grid combination that renders the same image as one of these: each turned by its shape's
    symmetries (a square's 4 quarter turns, an ellipse's 2 half turns)."""
    idx = factor_indices(factors)
    n_rot = len(FACTOR_VALUES["rotation"])
    out = {name: [] for name in FACTOR_VALUES}
    for s, shape in enumerate(SHAPES):
        mine = idx["shape"] == s
        period = ROTATION_PERIOD[shape]
        for turn in range(0, n_rot, period):
            for name in FACTOR_VALUES:
                ids = idx[name][mine] if name != "rotation" else (idx[name][mine] % period + turn) % n_rot
                out[name].append(FACTOR_VALUES[name][ids])
    return {name: np.concatenate(parts) for name, parts in out.items()}


def distinct_factors(n: int, seed: int = 0, exclude: dict | list[dict] = (), shape: str | None = None
                     ) -> dict[str, np.ndarray]:
    """n factor combinations drawn WITHOUT replacement from the grid: no two render the same image, and
    none renders like a combination in `exclude` (factor dicts, e.g. a training set's). Rotations are
    canonical for the shape's symmetry (see canonical). The shape is drawn uniformly (or is `shape`), the
    rest uniformly among that shape's unused combinations. Exact for the renderer's symmetries; at small
    sizes the renderer also draws a few triangle pairs turned by 117 or 126 degrees alike (16 of 61,440
    poses at 32 x 32): distinct_sprites redraws those."""
    rng = np.random.default_rng(seed)
    shapes = (np.full(n, SHAPES.index(shape)) if shape is not None else rng.integers(0, len(SHAPES), n))
    excluded = [exclude] if isinstance(exclude, dict) else list(exclude)
    taken = np.unique(np.concatenate([_codes(factor_indices(e)) for e in excluded] or [np.zeros(0, np.int64)]))
    dims = tuple(len(v) for v in FACTOR_VALUES.values())
    codes = np.zeros(n, dtype=np.int64)
    for s, name in enumerate(SHAPES):
        ids = np.flatnonzero(shapes == s)
        if not len(ids):
            continue
        grid = np.meshgrid(*[np.arange(k) for k in (dims[1], ROTATION_PERIOD[name], dims[3], dims[4])], indexing="ij")
        own = np.ravel_multi_index((np.full(grid[0].size, s), *(g.ravel() for g in grid)), dims)
        pool = np.setdiff1d(own, taken, assume_unique=True)
        if len(pool) < len(ids):
            raise ExplorerError(f"only {len(pool):,} unused {name} sprites are left on the factor grid; "
                                f"{len(ids):,} were asked for")
        codes[ids] = rng.choice(pool, len(ids), replace=False)
    idx = np.unravel_index(codes, dims)
    return {name: FACTOR_VALUES[name][i] for name, i in zip(FACTOR_VALUES, idx)}


def image_keys(images: np.ndarray) -> list[bytes]:
    """A digest of each image's pixels (N, C, H, W): equal keys, identical images."""
    return [hashlib.blake2b(np.ascontiguousarray(im).tobytes(), digest_size=16).digest() for im in images]


def distinct_sprites(n: int, size: int = 32, seed: int = 0, exclude: dict | list[dict] = (), shape: str | None = None,
                     seen: set[bytes] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(factors, images): n sprites from distinct_factors, rendered, with any image that is identical to an
    earlier one or to one in `seen` (image_keys of, say, the training images; the new keys are added to it)
    redrawn: the rare distinct combinations that the renderer draws alike at this size."""
    factors = distinct_factors(n, seed, exclude, shape)
    images = render(factors, size)
    seen = set() if seen is None else seen
    excluded = [exclude] if isinstance(exclude, dict) else list(exclude)
    redraw = seed
    for i, key in enumerate(image_keys(images)):
        while key in seen:
            redraw += 1_000_003
            one = distinct_factors(1, redraw, [*excluded, factors], SHAPES[int(factors["shape"][i])])
            for name in factors:
                factors[name][i] = one[name][0]
            images[i] = render(one, size)[0]
            key = image_keys(images[i : i + 1])[0]
        seen.add(key)
    return factors, images


def load_sprites(n: int = 10000, size: int = 32, seed: int = 0):
    """n different sprites of size x size (no image twice, so none is both a training and a held-out one);
    labels are the shapes, factors all five values."""
    factors, images = distinct_sprites(n, size, seed)
    fingerprint = f"sprites:distinct:{n}:{size}:{seed}"  # not the draws with replacement stored codes came from
    return make_dataset("sprites", images, factors["shape"].astype(np.int64), SHAPES, factors=factors,
                        fingerprint=fingerprint)
