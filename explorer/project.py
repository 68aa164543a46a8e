"""2-D maps of latent codes (PCA, UMAP, t-SNE, or the codes themselves when d = 2), stored beside their checkpoint.

`Projection` follows scikit-learn's conventions: fit returns self, fitted attributes end in `_`,
transform / inverse_transform. UMAP and t-SNE cost seconds to minutes (UMAP's first call also pays
numba compilation), so each map is computed once per checkpoint and kept on disk as
<checkpoint>/projections/<method>.npz: float32 points plus what the inverse needs, no pickles,
written atomically. A probe of the codes it was fitted on guards against a retrained model.
On a large set they are fitted on a sample and place the rest (FIT_SAMPLE); `explorer maps CKPT` computes
them with a progress bar, and a page only computes one after saying what and for about how long.
"""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np

from explorer.atomic import atomic_write_file
from explorer.errors import ExplorerError
from explorer.inverse import LinearInverse, NeighborInverse

MAP_METHODS = {"direct": "codes (d = 2)", "pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
# UMAP and t-SNE are fitted on at most this many codes (a seeded sample); the rest are placed afterwards:
# by UMAP's own transform, and for t-SNE (which has none) near their nearest sampled code (near_sampled).
# sklearn's Barnes-Hut t-SNE takes many minutes beyond 20,000 here.
FIT_SAMPLE = {"umap": 50_000, "tsne": 20_000}
PLACE_CHUNK = 20_000  # codes placed per step (one tick of the progress bar)
# Seconds on the 2-core reference machine (README, benchmarks/maps.py), for the page's "about how long":
# fit = a + b x fitted codes, then c per placed code.
COST = {"umap": (25.0, 8e-4, 2e-4), "tsne": (2.0, 2.8e-3, 3e-5), "pca": (0.1, 0.0, 3e-7), "direct": (0.0, 0.0, 0.0)}
PROJECTIONS = "projections"
MAP_KNN_TRAIN = 100_000  # a map's kNN accuracy is scored against at most this many training points


_FINGERPRINTS: dict[int, tuple] = {}  # id(array) -> (weak reference to it, its fingerprint)


def fingerprint(codes: np.ndarray) -> str:
    """A short hash of the codes, so a stored map is only reused for the codes it was made from.

    Remembered for the same array object (the app's read-only stored codes): at a million codes the hash
    costs a tenth of a second, on every rerun of every page otherwise."""
    known = _FINGERPRINTS.get(id(codes))
    if known is not None and known[0]() is codes:
        return known[1]
    flat = np.ascontiguousarray(codes, dtype=np.float32)
    digest = hashlib.sha1(memoryview(flat).cast("B"))
    digest.update(str(flat.shape).encode())
    if isinstance(codes, np.ndarray) and not codes.flags.writeable:  # a writeable array could change under us
        if len(_FINGERPRINTS) > 64:
            _FINGERPRINTS.clear()
        _FINGERPRINTS[id(codes)] = (weakref.ref(codes), digest.hexdigest()[:16])
    return digest.hexdigest()[:16]


def probe_rows(n: int) -> np.ndarray:
    """A few evenly spaced rows whose codes are stored with a map to recognise the codes it came from."""
    return np.linspace(0, n - 1, min(n, 64)).astype(int)


def same_codes(probe: np.ndarray, codes: np.ndarray) -> bool:
    """Whether stored probe codes match these codes up to float noise (another machine's kernels may
    round differently in the last bits, which must not force a new map)."""
    rows = probe_rows(len(codes))
    if probe.shape != (len(rows), codes.shape[1]):
        return False
    scale = float(np.abs(codes[rows]).max()) or 1.0
    return bool(np.allclose(probe, codes[rows], rtol=0, atol=1e-3 * scale))


def methods_for(dim: int) -> list[str]:
    """Methods that make sense for codes of size dim: 'direct' only when the codes already are 2-D."""
    return (["direct"] if dim == 2 else []) + ["pca", "umap", "tsne"]


def preferred_method(dim: int, ckpt_dir: str | Path) -> str:
    """The map a page opens on: the codes themselves at d = 2, else UMAP when stored, else PCA."""
    if dim == 2:
        return "direct"
    return "umap" if projection_path(ckpt_dir, "umap").is_file() else "pca"


def near_sampled(sample_codes: np.ndarray, sample_points: np.ndarray, rng):
    """Where t-SNE (which has no transform) puts a code it was not fitted on: at the map point of its nearest
    sampled code, moved by a random step of half that point's distance to its nearest map neighbour, so that
    codes placed on the same point spread into a small cloud instead of one dot.

    A distance-weighted mean of several neighbours' points would land codes between clusters: at 100,000 real
    codes (benchmarks/maps.py) the map's kNN accuracy of placed codes was 0.45 that way and 0.69 this way,
    against 0.75 for the fitted ones."""
    from scipy.spatial import cKDTree

    codes_tree = cKDTree(sample_codes)
    spacing = cKDTree(sample_points).query(sample_points, k=2)[0][:, 1]  # (S,) distance to the nearest other point

    def place(codes: np.ndarray) -> np.ndarray:
        nearest = codes_tree.query(codes)[1]
        step = rng.normal(size=(len(codes), 2)) * (0.5 * spacing[nearest])[:, None]
        return (sample_points[nearest] + step).astype(np.float32)

    return place


class Projection:
    """A 2-D map of codes (N, d) and its inverse from map points back to codes."""

    def __init__(self, method: str = "pca", random_state: int = 0, n_neighbors: int = 15, n_epochs: int = 200):
        if method not in MAP_METHODS:
            raise ExplorerError(f"unknown projection {method!r}; choose one of {', '.join(MAP_METHODS)}")
        self.method, self.random_state = method, random_state
        self.n_neighbors, self.n_epochs = n_neighbors, n_epochs

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, codes, progress=None) -> Projection:
        """progress(done, total): called as codes get their map points (UMAP and t-SNE only)."""
        codes = np.asarray(codes, dtype=np.float32)  # (N, d)
        n, d = codes.shape
        if n < 3:
            raise ExplorerError(f"need at least 3 codes to draw a map, got {n}")
        self.mean_, self.components_, self.fitted_rows_ = None, None, None
        if self.method == "direct":
            if d != 2:
                raise ExplorerError(
                    f"'direct' shows codes as they are and needs d = 2, got d = {d}; pick PCA, UMAP or t-SNE")
            self.mean_, self.components_ = np.zeros(2, np.float32), np.eye(2, dtype=np.float32)
            points = codes
        elif self.method == "pca":
            from sklearn.decomposition import PCA

            if d < 2:
                raise ExplorerError(f"a PCA map needs codes with at least 2 dimensions, these have {d}")
            pca = PCA(n_components=2, random_state=self.random_state).fit(codes.astype(np.float64))
            self.mean_, self.components_ = pca.mean_.astype(np.float32), pca.components_.astype(np.float32)
            points = (codes - self.mean_) @ self.components_.T
        else:
            points = self._fit_sample_place_rest(codes, progress)
        self._set(points, codes)
        return self

    def _fit_sample_place_rest(self, codes: np.ndarray, progress) -> np.ndarray:
        """UMAP or t-SNE of up to FIT_SAMPLE codes; every other code placed on that map, chunk by chunk."""
        n, limit = len(codes), FIT_SAMPLE[self.method]
        rng = np.random.default_rng(self.random_state)
        fitted = np.arange(n) if n <= limit else np.sort(rng.choice(n, limit, replace=False))
        points = np.empty((n, 2), np.float32)
        if self.method == "umap":
            reducer = self._umap(len(fitted))
            points[fitted] = reducer.fit_transform(codes[fitted])
            place = reducer.transform
        else:
            points[fitted] = self._tsne(codes[fitted])
            place = near_sampled(codes[fitted], points[fitted], rng)
        if progress:
            progress(len(fitted), n)
        rest = np.setdiff1d(np.arange(n), fitted)
        for start in range(0, len(rest), PLACE_CHUNK):
            rows = rest[start : start + PLACE_CHUNK]
            points[rows] = place(codes[rows])
            if progress:
                progress(len(fitted) + start + len(rows), n)
        self.fitted_rows_ = None if len(fitted) == n else fitted
        return points

    def _umap(self, n: int):
        import umap  # slow import (numba); only when asked for

        return umap.UMAP(n_components=2, n_neighbors=min(self.n_neighbors, n - 1), min_dist=0.1,
                         n_epochs=self.n_epochs, random_state=self.random_state, n_jobs=1)

    def _tsne(self, codes: np.ndarray) -> np.ndarray:
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(codes) - 1) / 3)
        return TSNE(n_components=2, perplexity=perplexity, init="pca", max_iter=500,  # converged enough for a picture
                    random_state=self.random_state).fit_transform(codes)

    def _set(self, points: np.ndarray, codes: np.ndarray) -> None:
        self.points_ = np.asarray(points, dtype=np.float32)  # (N, 2)
        self.codes_ = codes  # kept in memory for the inverse; never written to disk (the model recomputes them)
        self.fingerprint_ = fingerprint(codes)
        self._inverse = None

    # -- using a fitted map -----------------------------------------------------------------------
    @property
    def is_linear(self) -> bool:
        return self.components_ is not None

    def transform(self, codes) -> np.ndarray:
        """Map codes (n, d) to points (n, 2): exact for PCA / direct; for UMAP / t-SNE, the
        inverse-distance-weighted mean of the map points of the nearest fitted codes."""
        codes = np.atleast_2d(np.asarray(codes, dtype=np.float32))
        if self.is_linear:
            return (codes - self.mean_) @ self.components_.T
        return NeighborInverse(self.codes_, self.points_)(codes)  # the same interpolation, the other way

    def inverse(self):
        """The fast inverse (built once): a callable from points (n, 2) to codes (n, d)."""
        if self._inverse is None:
            self._inverse = (LinearInverse(self.mean_, self.components_) if self.is_linear
                             else NeighborInverse(self.points_, self.codes_))
        return self._inverse

    def inverse_transform(self, points) -> np.ndarray:
        return self.inverse()(points)

    # -- storage ------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write <path> atomically; plain arrays only, no pickles."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = self.codes_[probe_rows(len(self.codes_))]
        arrays = {"method": np.array(self.method), "points": self.points_, "probe": probe}
        if self.is_linear:
            arrays.update(mean=self.mean_, components=self.components_)
        if self.fitted_rows_ is not None:
            arrays.update(fitted=self.fitted_rows_)
        return atomic_write_file(path, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path: str | Path, codes) -> Projection:
        """Read a stored map; raise ExplorerError if it is unreadable or was made from other codes."""
        codes = np.asarray(codes, dtype=np.float32)
        try:
            with np.load(path, allow_pickle=False) as f:
                method, points, probe = str(f["method"]), f["points"], f["probe"]
                mean = f["mean"] if "mean" in f else None
                components = f["components"] if "components" in f else None
                fitted = f["fitted"] if "fitted" in f else None
        except (OSError, ValueError, KeyError) as exc:
            raise ExplorerError(
                f"{path}: unreadable stored projection ({type(exc).__name__}); delete it to recompute") from None
        if points.shape != (len(codes), 2) or not same_codes(probe, codes):
            raise ExplorerError(f"{path}: stored projection was made from other codes; delete it to recompute")
        return cls.from_points(points, codes, method, mean, components, fitted)

    @classmethod
    def from_points(cls, points, codes, method: str = "umap", mean=None, components=None,
                    fitted=None) -> Projection:
        """A map made elsewhere (points (N, 2) for codes (N, d)); mean / components make it linear;
        fitted: the rows it was fitted on, when a sample."""
        proj = cls(method)
        proj.mean_, proj.components_, proj.fitted_rows_ = mean, components, fitted
        proj._set(points, np.asarray(codes, dtype=np.float32))
        return proj


def projection_path(ckpt_dir: str | Path, method: str) -> Path:
    return Path(ckpt_dir) / PROJECTIONS / f"{method}.npz"


_MEMORY: OrderedDict = OrderedDict()  # (path, method, fingerprint) -> Projection; a few maps stay in memory
_MEMORY_SIZE = 16


def estimated_seconds(method: str, n: int) -> float:
    """About how long fitting and storing this map of n codes takes on the 2-core reference machine."""
    a, b, c = COST[method]
    fitted = min(n, FIT_SAMPLE.get(method, n))
    return a + b * fitted + c * (n - fitted)


def _remember(key: tuple, proj: Projection) -> Projection:
    _MEMORY[key] = proj
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)
    return proj


def stored_projection(codes, method: str, ckpt_dir: str | Path | None) -> Projection | None:
    """The map of these codes from memory or from <ckpt_dir>/projections/<method>.npz; None when there is
    none (or it is stale or corrupt). Never computes one."""
    key = (str(ckpt_dir), method, fingerprint(codes))
    codes = np.asarray(codes, dtype=np.float32)
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key]
    path = projection_path(ckpt_dir, method) if ckpt_dir is not None else None
    if path is None or not path.is_file():
        return None
    try:
        return _remember(key, Projection.load(path, codes))
    except ExplorerError:
        return None  # stale or corrupt: the caller recomputes it and overwrites


def project(codes, method: str, ckpt_dir: str | Path | None = None, progress=None) -> Projection:
    """The map of these codes: stored (see stored_projection), else fitted and stored beside the checkpoint."""
    proj = stored_projection(codes, method, ckpt_dir)
    if proj is not None:
        return proj
    codes = np.asarray(codes, dtype=np.float32)
    proj = Projection(method).fit(codes, progress)
    if ckpt_dir is not None and method != "direct":  # a 2-D code is its own map: nothing to store
        try:
            proj.save(projection_path(ckpt_dir, method))
        except OSError:
            pass  # a read-only checkpoint folder: keep the map in memory only
    return _remember((str(ckpt_dir), method, fingerprint(codes)), proj)


def baseline_points(pca_codes) -> np.ndarray:
    """The PCA baseline's own 2-D map of the images: their first two principal components.

    PCA's code units are the principal components in order, so the first two columns of PCA's codes
    at any d >= 2 are exactly PCA fitted with d = 2 (the classic picture next to a 2-D autoencoder).
    """
    pca_codes = np.asarray(pca_codes, dtype=np.float32)
    if pca_codes.ndim != 2 or pca_codes.shape[1] < 2:
        raise ExplorerError(f"the PCA baseline needs at least 2 components, got codes of shape {pca_codes.shape}")
    return pca_codes[:, :2]


def map_metrics(points, dataset, trust_max: int = 2000) -> dict[str, float]:
    """How good a 2-D map is, on the held-out split: kNN accuracy (labels) and trustworthiness (pixels).

    kNN accuracy scores at most KNN_MAX held-out images (as evaluate_model does) against at most MAP_KNN_TRAIN
    training images, both evenly spaced, so that a million-point map is measured in a fraction of a second."""
    from explorer import metrics
    from explorer.evaluate import KNN_MAX, evenly_spaced

    points = np.asarray(points)
    out = {}
    if dataset.labels is not None:
        scored = dataset.test_idx[evenly_spaced(len(dataset.test_idx), KNN_MAX)]
        train = dataset.train_idx[evenly_spaced(len(dataset.train_idx), MAP_KNN_TRAIN)]
        out["knn_acc"] = metrics.knn_accuracy(points[train], dataset.labels[train],
                                              points[scored], dataset.labels[scored])
    test = dataset.test_idx[:trust_max]  # trustworthiness is O(n^2)
    out["trustworthiness"] = metrics.trustworthiness(dataset.images[test].numpy(), points[test])
    return out
