"""How far to trust what a spot on a 2-D map decodes to: a score in (0, 1] from measures that need no image.

A spot p becomes a code z = inverse(p) and an image decode(z). The score multiplies three terms:
  local error: how badly decoding the spots of the data images nearest to p reproduces those images, as a
         multiple e of the model's own median reconstruction error (encode, decode): term 1 / (1 + e).
         It exposes a PCA map of d > 2 codes, whose spots decode the point of the map's plane (the hidden
         directions at the mean): there every nearby image decodes several times worse than from its code;
  data:  p's distance to the nearest map point and z's distance to the nearest real code, each as a multiple r of
         the data's median nearest-neighbour spacing: term 1 / (1 + (r / FALLOFF)^2), 1 on the data, falling away;
  prior: for a VAE, 1 inside the ball holding PRIOR_MASS of N(0, I), the relative tail probability outside.
The round trip (decode, encode, map again: how far from p it lands, in map spacings) is measured and shown
but left out of the score: on held-out mnist5k images it ran against the decoding error (README).
A path's frames decode codes, not spots: of_codes judges them in code space (nearest codes, their own errors).

Each spot costs KD-tree queries and one decode + encode, so a 40 x 40 grid costs the same at any map size;
the reference (trees, local errors) holds at most REFERENCE_MAX data points, a seeded sample beyond that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.stats import chi2, spearmanr

from explorer.datasets.images import as_images
from explorer.evaluate import decode_all, encode_all
from explorer.inverse import NeighborInverse, grid_points
from explorer.models.base import Autoencoder

REFERENCE_MAX = 10_000  # data points the reference decodes once and holds in its trees
SCALE_SAMPLE = 2_000  # points whose nearest-neighbour spacing sets the unit of each distance
LOCAL_K = 8  # nearest data images whose decoding error is averaged at a spot
FALLOFF = 10.0  # spacings from the data at which the distance term is 1/2 (measured: 3 or 5 hid the signal)
PRIOR_MASS = 0.99  # a VAE code inside the ball holding this much of N(0, I) counts as fully typical
HEAT_GRID_N = 40  # the heat layer's grid: 1,600 decodes, whatever the size of the map


def _spacing(tree: cKDTree, values: np.ndarray, rng) -> float:
    """Median distance from a sample of the tree's own points to their nearest other point."""
    rows = rng.choice(len(values), min(len(values), SCALE_SAMPLE), replace=False)
    dist = tree.query(values[rows], k=2)[0][:, 1]
    return max(float(np.median(dist)), 1e-9)


def _sse(model: Autoencoder, codes: np.ndarray, images: torch.Tensor) -> np.ndarray:
    """Sum of squared errors (n,) of decoding codes (n, d) against images (n, C, H, W)."""
    decoded = decode_all(model, torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32)))
    return (decoded - images).pow(2).flatten(1).sum(1).double().numpy()


@dataclass
class Reference:
    """The data a spot is judged against: KD-trees over map points and codes, their spacings, local errors."""

    map_tree: cKDTree
    code_tree: cKDTree
    map_scale: float
    code_scale: float
    local_error: np.ndarray  # (n_reference,) decoding error at each point's own spot / model's median error
    own_error: np.ndarray  # (n_reference,) decoding error from each point's own code / model's median error
    to_map: Callable[[np.ndarray], np.ndarray]  # codes (n, d) -> map points (n, 2), as the map places them
    n_data: int  # points the reference stands for
    n_reference: int  # points it holds (n_data, or REFERENCE_MAX of them)

    @property
    def sampled(self) -> bool:
        return self.n_reference < self.n_data


def reference(model: Autoencoder, points: np.ndarray, codes: np.ndarray, images, inverse, to_map=None,
              seed: int = 0) -> Reference:
    """Build the reference from map points (N, 2), their codes (N, d) and their images (explorer Images or a
    tensor (N, C, H, W)).

    inverse: the map's spots -> codes; to_map: codes -> spots for linear maps (exact), None to place codes
    by their nearest reference codes as UMAP / t-SNE maps do (explorer.project)."""
    rng = np.random.default_rng(seed)
    n = len(points)
    rows = np.sort(rng.choice(n, REFERENCE_MAX, replace=False)) if n > REFERENCE_MAX else np.arange(n)
    pts = np.asarray(points[rows], dtype=np.float64)
    cds = np.asarray(codes[rows], dtype=np.float32)
    imgs = as_images(images).take(rows)[:]  # (n, C, H, W) floats: REFERENCE_MAX at most
    own = _sse(model, cds, imgs)  # the best the decoder does: from the images' own codes
    unit = max(float(np.median(own)), 1e-12)
    local = _sse(model, inverse(pts), imgs) / unit
    map_tree, code_tree = cKDTree(pts), cKDTree(cds.astype(np.float64))
    if to_map is None:
        to_map = NeighborInverse(cds, pts)  # the same interpolation the map uses, on the reference only
    return Reference(map_tree, code_tree, _spacing(map_tree, pts, rng), _spacing(code_tree, cds, rng), local,
                     own / unit, to_map, n, len(pts))


def for_projection(model: Autoencoder, proj, codes: np.ndarray, images, seed: int = 0) -> Reference:
    """The reference of a fitted explorer.project.Projection over all of its codes and images."""
    return reference(model, proj.points_, codes, images, proj.inverse_transform,
                     proj.transform if proj.is_linear else None, seed)


def falloff(ratio: np.ndarray) -> np.ndarray:
    """1 on the data, 1/2 at FALLOFF spacings away, towards 0 beyond."""
    return 1.0 / (1.0 + (np.asarray(ratio) / FALLOFF) ** 2)


@dataclass
class Reliability:
    """Per spot: each measure (distances as multiples of the data's spacing) and the combined score in (0, 1]."""

    local_error: np.ndarray  # mean decoding error of the LOCAL_K nearest data images' spots / model's median error
    data: np.ndarray  # distance from the spot to the nearest map point / map spacing (0 for a code: no spot)
    code: np.ndarray  # distance from its code to the nearest real code / code spacing
    trip: np.ndarray  # |map(encode(decode(code))) - spot| / map spacing (shown, not scored); for a code, in code space
    prior: np.ndarray | None  # VAE only: prior tail probability of the code relative to 1 - PRIOR_MASS, in [0, 1]

    @property
    def score(self) -> np.ndarray:
        s = falloff(self.data) * falloff(self.code) / (1.0 + self.local_error)
        return s if self.prior is None else s * self.prior


def prior_term(codes: np.ndarray) -> np.ndarray:
    """1 inside the ball holding PRIOR_MASS of N(0, I); outside, the tail probability P(|e|^2 >= |z|^2)
    relative to that ball's tail: how much rarer than the rarest typical prior sample the code is."""
    codes = np.asarray(codes, dtype=np.float64)
    tail = chi2.sf((codes**2).sum(1), df=codes.shape[1])
    return np.minimum(1.0, tail / (1.0 - PRIOR_MASS))


def reliability(ref: Reference, model: Autoencoder, spots: np.ndarray, codes: np.ndarray) -> Reliability:
    """The reliability of spots (n, 2) whose codes (n, d) are what the map decodes there."""
    spots = np.asarray(spots, dtype=np.float64).reshape(-1, 2)
    codes = np.asarray(codes, dtype=np.float32).reshape(len(spots), -1)
    again = encode_all(model, decode_all(model, torch.from_numpy(codes.copy()))).numpy()  # (n, d)
    back = np.asarray(ref.to_map(again), dtype=np.float64).reshape(-1, 2)
    dist, near = ref.map_tree.query(spots, k=min(LOCAL_K, ref.n_reference))
    dist, near = dist.reshape(len(spots), -1), near.reshape(len(spots), -1)
    return Reliability(
        local_error=ref.local_error[near].mean(1),
        data=dist[:, 0] / ref.map_scale,
        code=ref.code_tree.query(codes.astype(np.float64))[0] / ref.code_scale,
        trip=np.linalg.norm(back - spots, axis=1) / ref.map_scale,
        prior=prior_term(codes) if model.samples_prior else None,
    )


def at_spots(ref: Reference, model: Autoencoder, inverse, spots) -> Reliability:
    """Reliability of map spots (n, 2), decoded through the map's inverse (spots -> codes)."""
    spots = np.asarray(spots, dtype=np.float64).reshape(-1, 2)
    return reliability(ref, model, spots, inverse(spots))


def of_codes(ref: Reference, model: Autoencoder, codes) -> Reliability:
    """Reliability of decoding codes (n, d) themselves (a path in code space), judged in code space: no map spot is
    decoded, so the local error is the nearest images' error from their own codes, and the round trip stays there."""
    codes = np.atleast_2d(np.asarray(codes, dtype=np.float32))
    again = encode_all(model, decode_all(model, torch.from_numpy(codes.copy()))).numpy()
    dist, near = ref.code_tree.query(codes.astype(np.float64), k=min(LOCAL_K, ref.n_reference))
    dist, near = dist.reshape(len(codes), -1), near.reshape(len(codes), -1)
    return Reliability(local_error=ref.own_error[near].mean(1), data=np.zeros(len(codes)),
                       code=dist[:, 0] / ref.code_scale, trip=np.linalg.norm(again - codes, axis=1) / ref.code_scale,
                       prior=prior_term(codes) if model.samples_prior else None)


@dataclass
class HeatLayer:
    """The reliability score over an n x n grid: z[i, j] at (x[j], y[i]), y ascending (plotly's heatmap order)."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray


def heat_layer(ref: Reference, model: Autoencoder, inverse, ranges, n: int = HEAT_GRID_N) -> HeatLayer:
    """Reliability on an n x n grid over ranges ((x0, x1), (y0, y1))."""
    (x0, x1), (y0, y1) = ranges
    spots = grid_points((x0, x1), (y0, y1), n)  # rows from the top
    score = at_spots(ref, model, inverse, spots).score.reshape(n, n)[::-1]  # rows from the bottom
    return HeatLayer(np.linspace(x0, x1, n), np.linspace(y0, y1, n), score)


@dataclass
class Validation:
    """Held-out images at their own map spots: reliability there against the error of decoding the spot."""

    spearman: float  # rank correlation of reliability with -error (positive: reliable spots decode better)
    n: int
    mean_error: float  # sum of squared errors per image, decoding each image's map spot
    mean_score: float


def heldout_validation(model: Autoencoder, proj, codes: np.ndarray, dataset, n_max: int = 1000,
                       seed: int = 0) -> Validation:
    """Judge the held-out images' own map spots against the training images only (the reference never saw them)
    and correlate the reliability there with how well decoding the spot reproduces the image."""
    train, test = np.asarray(dataset.train_idx), np.asarray(dataset.test_idx)
    test = test[np.linspace(0, len(test) - 1, min(n_max, len(test))).round().astype(int)]
    ref = reference(model, proj.points_[train], codes[train], dataset.images.take(train), proj.inverse_transform,
                    proj.transform if proj.is_linear else None, seed)
    spots = np.asarray(proj.points_[test], dtype=np.float64)
    z = proj.inverse_transform(spots)
    error = _sse(model, z, dataset.images.take(test)[:])
    score = reliability(ref, model, spots, z).score
    rho = spearmanr(score, -error)[0]
    return Validation(float(rho), len(test), float(error.mean()), float(score.mean()))
