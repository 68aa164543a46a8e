"""2-D maps of latent codes (PCA, UMAP, t-SNE, or the codes themselves when d = 2), stored beside their checkpoint.

`Projection` follows scikit-learn's conventions: fit returns self, fitted attributes end in `_`,
transform / inverse_transform. UMAP and t-SNE cost seconds to minutes (UMAP's first call also pays
numba compilation), so each map is computed once per checkpoint and kept on disk as
<checkpoint>/projections/<method>.npz: float32 points plus what the inverse needs, no pickles,
written atomically. A probe of the codes it was fitted on guards against a retrained model.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path

import numpy as np

from explorer.atomic import atomic_write_file
from explorer.errors import ExplorerError
from explorer.inverse import LinearInverse, NeighbourInverse

METHODS = {"direct": "codes (d = 2)", "pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
TSNE_MAX = 20_000  # sklearn's Barnes-Hut t-SNE takes many minutes beyond this on a laptop
PROJECTIONS = "projections"


def fingerprint(codes: np.ndarray) -> str:
    """A short hash of the codes, so a stored map is only reused for the codes it was made from."""
    codes = np.ascontiguousarray(codes, dtype=np.float32)
    return hashlib.sha1(codes.tobytes() + str(codes.shape).encode()).hexdigest()[:16]


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


class Projection:
    """A 2-D map of codes (N, d) and its inverse from map points back to codes."""

    def __init__(self, method: str = "pca", random_state: int = 0, n_neighbors: int = 15, n_epochs: int = 200):
        if method not in METHODS:
            raise ExplorerError(f"unknown projection {method!r}; choose one of {', '.join(METHODS)}")
        self.method, self.random_state = method, random_state
        self.n_neighbors, self.n_epochs = n_neighbors, n_epochs

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, codes) -> "Projection":
        codes = np.asarray(codes, dtype=np.float32)  # (N, d)
        n, d = codes.shape
        if n < 3:
            raise ExplorerError(f"need at least 3 codes to draw a map, got {n}")
        self.mean_, self.components_ = None, None
        if self.method == "direct":
            if d != 2:
                raise ExplorerError(f"'direct' shows codes as they are and needs d = 2, got d = {d}; pick PCA, UMAP or t-SNE")
            self.mean_, self.components_ = np.zeros(2, np.float32), np.eye(2, dtype=np.float32)
            points = codes
        elif self.method == "pca":
            from sklearn.decomposition import PCA

            pca = PCA(n_components=2, random_state=self.random_state).fit(codes.astype(np.float64))
            self.mean_, self.components_ = pca.mean_.astype(np.float32), pca.components_.astype(np.float32)
            if pca.n_components_ < 2 or d < 2:
                raise ExplorerError("PCA needs codes with at least 2 dimensions")
            points = (codes - self.mean_) @ self.components_.T
        elif self.method == "umap":
            points = self._umap(codes)
        else:
            points = self._tsne(codes)
        self._set(points, codes)
        return self

    def _umap(self, codes: np.ndarray) -> np.ndarray:
        import umap  # slow import (numba); only when asked for

        reducer = umap.UMAP(n_components=2, n_neighbors=min(self.n_neighbors, len(codes) - 1), min_dist=0.1,
                            n_epochs=self.n_epochs, random_state=self.random_state, n_jobs=1)
        return reducer.fit_transform(codes)

    def _tsne(self, codes: np.ndarray) -> np.ndarray:
        from sklearn.manifold import TSNE

        if len(codes) > TSNE_MAX:
            raise ExplorerError(f"t-SNE on {len(codes)} points would take too long here (limit {TSNE_MAX}); use UMAP")
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
        return NeighbourInverse(self.codes_, self.points_)(codes)  # the same interpolation, the other way

    def inverse(self):
        """The fast inverse (built once): a callable from points (n, 2) to codes (n, d)."""
        if self._inverse is None:
            self._inverse = (LinearInverse(self.mean_, self.components_) if self.is_linear
                             else NeighbourInverse(self.points_, self.codes_))
        return self._inverse

    def inverse_transform(self, points) -> np.ndarray:
        return self.inverse()(points)

    # -- storage ------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write <path> atomically; plain arrays only, no pickles."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"method": np.array(self.method), "points": self.points_, "probe": self.codes_[probe_rows(len(self.codes_))]}
        if self.is_linear:
            arrays.update(mean=self.mean_, components=self.components_)
        return atomic_write_file(path, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path: str | Path, codes) -> "Projection":
        """Read a stored map; raise ExplorerError if it is unreadable or was made from other codes."""
        codes = np.asarray(codes, dtype=np.float32)
        try:
            with np.load(path, allow_pickle=False) as f:
                method, points, probe = str(f["method"]), f["points"], f["probe"]
                mean = f["mean"] if "mean" in f else None
                components = f["components"] if "components" in f else None
        except (OSError, ValueError, KeyError) as exc:
            raise ExplorerError(f"{path}: unreadable stored projection ({type(exc).__name__}); delete it to recompute") from None
        if points.shape != (len(codes), 2) or not same_codes(probe, codes):
            raise ExplorerError(f"{path}: stored projection was made from other codes; delete it to recompute")
        return cls.from_points(points, codes, method, mean, components)

    @classmethod
    def from_points(cls, points, codes, method: str = "umap", mean=None, components=None) -> "Projection":
        """A map made elsewhere (points (N, 2) for codes (N, d)); mean / components make it linear."""
        proj = cls(method)
        proj.mean_, proj.components_ = mean, components
        proj._set(points, np.asarray(codes, dtype=np.float32))
        return proj


def projection_path(ckpt_dir: str | Path, method: str) -> Path:
    return Path(ckpt_dir) / PROJECTIONS / f"{method}.npz"


_MEMORY: OrderedDict = OrderedDict()  # (path, method, fingerprint) -> Projection; a few maps stay in memory
_MEMORY_SIZE = 16


def project(codes, method: str, ckpt_dir: str | Path | None = None) -> Projection:
    """The map of these codes: from memory, else from <ckpt_dir>/projections/<method>.npz, else fitted (and stored)."""
    codes = np.asarray(codes, dtype=np.float32)
    key = (str(ckpt_dir), method, fingerprint(codes))
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key]
    path = projection_path(ckpt_dir, method) if ckpt_dir is not None else None
    proj = None
    if path is not None and path.is_file():
        try:
            proj = Projection.load(path, codes)
        except ExplorerError:
            proj = None  # stale or corrupt: recompute and overwrite
    if proj is None:
        proj = Projection(method).fit(codes)
        if path is not None:
            try:
                proj.save(path)
            except OSError:
                pass  # a read-only checkpoint folder: keep the map in memory only
    _MEMORY[key] = proj
    while len(_MEMORY) > _MEMORY_SIZE:
        _MEMORY.popitem(last=False)
    return proj


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
    """How good a 2-D map is, on the held-out split: kNN accuracy (labels) and trustworthiness (pixels)."""
    from explorer import metrics

    points = np.asarray(points)
    out = {}
    if dataset.labels is not None:
        out["knn_acc"] = metrics.knn_accuracy(points[dataset.train_idx], dataset.y_train,
                                              points[dataset.test_idx], dataset.y_test)
    test = dataset.test_idx[:trust_max]  # trustworthiness is O(n^2)
    out["trustworthiness"] = metrics.trustworthiness(dataset.images[test].numpy(), points[test])
    return out


def precompute(ckpt_dir: str | Path, dataset=None, methods=("pca", "umap")) -> dict[str, Path]:
    """Compute and store the maps of one checkpoint's codes (for shipping, so the app opens fast)."""
    from explorer.checkpoints import load_checkpoint, read_config
    from explorer.codes import codes_for
    from explorer.datasets import load_dataset

    config = read_config(ckpt_dir)
    if dataset is None:
        opts = config.get("dataset_options", {})
        dataset = load_dataset(config["dataset"], image_size=opts.get("image_size"), color=opts.get("color", "gray"))
    model, _ = load_checkpoint(ckpt_dir, dataset.image_shape)
    codes = np.asarray(codes_for(ckpt_dir, model, dataset))
    out = {}
    for method in methods:
        if method == "direct" or (method == "tsne" and len(codes) > TSNE_MAX):
            continue
        if method == "pca" and codes.shape[1] == 2:
            continue  # d = 2 is shown directly; PCA of it is only a rotation
        project(codes, method, ckpt_dir)
        out[method] = projection_path(ckpt_dir, method)
    return out


def main(argv=None) -> None:
    """python -m explorer.project CKPT_DIR... : precompute and store PCA and UMAP maps."""
    import argparse
    import time

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("ckpt_dirs", nargs="+")
    ap.add_argument("--methods", default="pca,umap")
    args = ap.parse_args(argv)
    for ckpt in args.ckpt_dirs:
        t = time.perf_counter()
        done = precompute(ckpt, methods=tuple(args.methods.split(",")))
        print(f"{ckpt}: {', '.join(done) or 'nothing'} in {time.perf_counter() - t:.1f} s", flush=True)


if __name__ == "__main__":
    main()
