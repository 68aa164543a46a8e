"""k nearest neighbours of codes (or pixels): exact for small sets, an approximate index above a threshold,
stored beside the checkpoint so that it is built once.

`NeighborIndex` looks like a scikit-learn estimator: `fit(X)` returns self, fitted attributes end in `_`,
`query(q, k)` returns `(indices, distances)`, both (Q, k), nearest first.

- exact: one matrix product per batch of queries, then the k best by `argpartition`; the few candidates
  are re-scored directly so the distances are not hurt by the cancellation in |x|^2 - 2 x.q + |q|^2.
- approximate: an inverted-file (IVF) index in plain numpy. k-means (trained on a sample) splits the rows
  into about sqrt(N) cells; a query scans only the rows of the `n_probe_` cells whose centres are nearest
  it and re-scores the best k as exact search does. `n_probe_` is measured, not guessed: at build time it
  is the smallest power of two whose recall@10 against exact search, on 200 indexed rows, reaches 0.98
  (stored as `recall_`), so data with less cluster structure get more cells probed.
  The index is three plain arrays (cell centres, row ids grouped by cell, cell sizes), so it is stored
  beside the checkpoint (<checkpoint>/neighbors/<metric>.npz, no pickles, written atomically) and a page
  loads it in well under a second instead of building it. The rows themselves are not stored: they are the
  checkpoint's codes (codes.npy), and a probe of them guards against a stored index of other codes.
  Why not pynndescent, the previous index: its queries are faster, but its build at 1,000,000 codes takes
  minutes (numba compilation included) and it can only be stored by pickling. Measured on 999,000 conv-ae-d16
  codes of generated digits, 1,000 held-out queries, one thread (benchmarks/neighbors.py, 2 shared cores):
  IVF builds in 5.5 s, answers in 0.19 ms (median) at recall@10 0.985; pynndescent builds in 101 s,
  answers in 0.023 ms at recall@10 0.969; exact search takes 9.8 ms. On codes without cluster structure
  (i.i.d. Gaussian, 1,000,000 x 16) the build chose n_probe 64: 1.1 ms per query at recall@10 0.984.

Distances: euclidean is |x - q|; cosine is 1 - cos(x, q), as in scikit-learn. For cosine both methods work
on unit-length rows.
"""

from __future__ import annotations

import functools
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.atomic import atomic_write_file
from explorer.errors import ExplorerError
from explorer.metrics import precision_at_k
from explorer.project import probe_rows, same_codes  # a stored map's guard against other codes

METRICS = ("euclidean", "cosine")
SEARCH_METHODS = ("auto", "exact", "approximate")
APPROX_THRESHOLD = 20_000  # above this many rows "auto" builds the approximate index
QUERY_BATCH = 512  # exact search: at most this many queries per (batch, N) distance matrix ...
MATRIX_ELEMENTS = 1 << 24  # ... and at most this many entries in it (64 MB of float32), whatever N is
TRAIN_PER_CELL = 64  # k-means trains on a sample of this many rows per cell
KMEANS_ITERATIONS = 10
TARGET_RECALL = 0.98  # n_probe doubles until recall@10 on RECALL_QUERIES indexed rows reaches this
RECALL_QUERIES = 200
INDEX_FORMAT = 1  # stored with the index; a file of another format is rebuilt
INDEX_FOLDER = "neighbors"  # <checkpoint>/neighbors/<metric>.npz


def _as_2d(x, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2:
        raise ExplorerError(f"{what}: expected a (n, d) array of vectors, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ExplorerError(f"{what}: contains NaN or infinite values")
    return arr


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1; an all-zero row stays zero, so its cosine distance to anything is 1."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def default_cells(n: int) -> int:
    """About sqrt(n) cells of about sqrt(n) rows: 1,000 cells at 1,000,000 rows."""
    return max(1, min(n, round(np.sqrt(n))))


class NeighborIndex:
    """Nearest neighbours under euclidean or cosine distance.

    method: "exact", "approximate" (IVF) or "auto" (approximate above `threshold` rows).
    n_cells (default about sqrt(N)) and n_probe (default: measured at build, see the module docstring) trade
    the approximate index's build and query time against its recall.
    Fitted: method_, n_samples_, dim_, build_seconds_; approximate also n_probe_ and recall_ (recall@10).
    """

    def __init__(self, metric: str = "euclidean", method: str = "auto", threshold: int = APPROX_THRESHOLD,
                 n_cells: int | None = None, n_probe: int | None = None, n_iter: int = KMEANS_ITERATIONS,
                 random_state: int = 0):
        if metric not in METRICS:
            raise ExplorerError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
        if method not in SEARCH_METHODS:
            raise ExplorerError(f"unknown search method {method!r}; choose one of {', '.join(SEARCH_METHODS)}")
        self.metric, self.method, self.threshold = metric, method, threshold
        self.n_cells, self.n_probe, self.n_iter, self.random_state = n_cells, n_probe, n_iter, random_state

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, X, progress=None) -> NeighborIndex:
        """Index the rows of X (N, d). progress(done, total), if given, follows the approximate index's build."""
        X = _as_2d(X, "index data")
        if len(X) < 2:
            raise ExplorerError("index data: need at least 2 vectors to search among")
        start = time.perf_counter()
        self.method_ = self.method if self.method != "auto" else (
            "approximate" if len(X) > self.threshold else "exact")
        self._set_data(X)
        self.centroids_ = None  # exact search has no cells
        if self.method_ == "approximate":
            self._build_cells(progress)
        self.build_seconds_ = time.perf_counter() - start
        return self

    def _set_data(self, X: np.ndarray) -> None:
        self.n_samples_, self.dim_ = X.shape
        self.probe_ = X[probe_rows(len(X))].copy()  # stored with the index, to recognise these vectors
        # both methods search the (unit-length, for cosine) rows; exact search also uses their squared norms
        self.data_ = _unit_rows(X) if self.metric == "cosine" else np.ascontiguousarray(X)
        self.sq_norms_ = np.einsum("ij,ij->i", self.data_, self.data_)  # (N,)

    def _build_cells(self, progress) -> None:
        n = self.n_samples_
        n_cells = min(n, self.n_cells or default_cells(n))
        rng = np.random.default_rng(self.random_state)
        sample = self.data_[np.sort(rng.choice(n, size=min(n, TRAIN_PER_CELL * n_cells), replace=False))]
        steps = self.n_iter + 2  # k-means iterations, assigning every row, measuring recall
        centroids = _kmeans(sample, n_cells, self.n_iter, rng,
                            lambda i: progress(i, steps) if progress else None)
        cells = _nearest_centroid(self.data_, centroids)  # (N,)
        if progress:
            progress(self.n_iter + 1, steps)
        self._set_cells(centroids, np.argsort(cells, kind="stable"), np.bincount(cells, minlength=n_cells))
        if self.n_probe is None:
            self._tune_n_probe()
        else:
            self.n_probe_ = max(1, min(self.n_probe, n_cells))
            self.recall_ = self._recall(10, RECALL_QUERIES, 0)
        if progress:
            progress(steps, steps)

    def _set_cells(self, centroids: np.ndarray, order: np.ndarray, sizes: np.ndarray) -> None:
        self.centroids_ = np.ascontiguousarray(centroids, dtype=np.float32)  # (C, d)
        self.centroid_sq_ = np.einsum("ij,ij->i", self.centroids_, self.centroids_)  # (C,)
        self.order_ = order.astype(np.intp)  # (N,) row ids, cell by cell
        self.sizes_ = sizes.astype(np.intp)  # (C,) rows per cell
        self.offsets_ = np.concatenate([[0], np.cumsum(self.sizes_)])  # cell c holds order_[offsets_[c]:offsets_[c+1]]
        # The rows again, cell by cell: a query reads n_probe contiguous blocks (0.02 ms for 10,000 rows at
        # 1,000,000 x 16) instead of gathering scattered rows (0.15 ms). Not stored: made from the vectors.
        self.cell_data_ = self.data_[self.order_]  # (N, d)
        self.cell_sq_ = self.sq_norms_[self.order_]  # (N,)

    def _tune_n_probe(self) -> None:
        """The smallest power of two (from 4) whose recall@10 reaches TARGET_RECALL; all cells at most."""
        truth = self._recall_truth(10, RECALL_QUERIES, 0)  # exact search once; only n_probe_ varies below
        n_cells = len(self.centroids_)
        self.n_probe_ = min(4, n_cells)
        while True:
            self.recall_ = self._recall_against(*truth, 10)
            if self.recall_ >= TARGET_RECALL or self.n_probe_ == n_cells:
                return
            self.n_probe_ = min(2 * self.n_probe_, n_cells)

    # ---- query -----------------------------------------------------------------------------------
    def query(self, q, k: int = 10, exclude=None) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest rows to each query: (indices (Q, k) int64, distances (Q, k) float32), nearest first.

        exclude: a row id (or one per query, -1 for none) never returned, e.g. the query's own row.
        """
        if not hasattr(self, "data_"):
            raise ExplorerError("the neighbour index is not fitted yet: call fit(X) first")
        q = _as_2d(q, "query")
        if q.shape[1] != self.dim_:
            raise ExplorerError(f"query has {q.shape[1]} dimensions, the index has {self.dim_}")
        n_avail = self.n_samples_ - (exclude is not None)
        if not 1 <= k <= n_avail:
            raise ExplorerError(f"k = {k} neighbours asked for, but there are only {n_avail} to choose from")
        extra = 1 if exclude is not None else 0  # ask for one more, then drop the excluded row
        # One BLAS thread: for a (1, d) x (d, N) product OpenBLAS's extra threads cost more than they save,
        # and on a busy machine their spin-waiting turned a 0.05 ms product into 25 ms.
        with _blas_controller().limit(limits=1, user_api="blas"):
            exhaustive = self.centroids_ is None or self.n_probe_ >= len(self.centroids_)  # all cells: exact is faster
            search = self._exact_search if exhaustive else self._cell_search
            idx, dist = search(q, k + extra)
        if exclude is not None:
            idx, dist = _drop(idx, dist, np.broadcast_to(np.asarray(exclude), (len(q),)), k)
        return idx, dist

    def _exact(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact search, whatever the method (the reference for recall)."""
        with _blas_controller().limit(limits=1, user_api="blas"):
            return self._exact_search(q, k)

    def _exact_search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.metric == "cosine":
            q = _unit_rows(q)
        n_cand = min(self.n_samples_, k + 8)  # a few spare candidates for the exact re-scoring below
        batch = max(1, min(QUERY_BATCH, MATRIX_ELEMENTS // self.n_samples_))
        out_idx, out_dist = [], []
        for s in range(0, len(q), batch):
            qb = q[s : s + batch]  # (B, d)
            if self.metric == "cosine":
                score = -(qb @ self.data_.T)  # (B, N): smaller is nearer
            else:
                score = self.sq_norms_[None] - 2.0 * (qb @ self.data_.T)  # |x|^2 - 2 x.q: same order as |x-q|^2
            if n_cand < self.n_samples_:
                cand = np.argpartition(score, n_cand - 1, axis=1)[:, :n_cand]  # (B, n_cand), unordered
            else:
                cand = np.broadcast_to(np.arange(self.n_samples_), (len(qb), self.n_samples_))
            dist = _rescore(self.data_[cand], qb, self.metric)  # (B, n_cand)
            order = np.argsort(dist, axis=1, kind="stable")[:, :k]
            out_idx.append(np.take_along_axis(cand, order, 1))
            out_dist.append(np.take_along_axis(dist, order, 1))
        return np.concatenate(out_idx).astype(np.int64), np.concatenate(out_dist).astype(np.float32)

    def _cell_search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Approximate search: each query scans the rows of its nearest cells, then re-scores its best few."""
        if self.metric == "cosine":
            q = _unit_rows(q)
        cell_scores = self.centroid_sq_[None] - 2.0 * (q @ self.centroids_.T)  # (Q, C): order of |c - q|^2
        out_idx, out_dist = np.empty((len(q), k), np.int64), np.empty((len(q), k), np.float32)
        for i, (qi, scores) in enumerate(zip(q, cell_scores)):
            spans = [slice(self.offsets_[c], self.offsets_[c + 1]) for c in self._probe_cells(scores, k)]
            rows = np.concatenate([self.order_[s] for s in spans])  # (m,) row ids
            found = np.concatenate([self.cell_data_[s] for s in spans])  # (m, d), read block by block
            if self.metric == "cosine":
                rough = -(found @ qi)  # (m,) smaller is nearer
            else:
                rough = np.concatenate([self.cell_sq_[s] for s in spans]) - 2.0 * (found @ qi)  # as exact search
            n_cand = min(len(rows), k + 8)  # a few spare candidates for the exact re-scoring
            if n_cand < len(rows):
                cand = np.argpartition(rough, n_cand - 1)[:n_cand]
                rows, found = rows[cand], found[cand]
            dist = _rescore(found[None], qi[None], self.metric)[0]  # (n_cand,)
            order = np.argsort(dist, kind="stable")[:k]
            out_idx[i], out_dist[i] = rows[order], dist[order]
        return out_idx, out_dist

    def _probe_cells(self, cell_scores: np.ndarray, k: int) -> np.ndarray:
        """The n_probe_ cells nearest a query; more cells, nearest first, if those hold fewer than k rows."""
        n_cells = len(self.centroids_)
        if self.n_probe_ < n_cells:
            cells = np.argpartition(cell_scores, self.n_probe_ - 1)[: self.n_probe_]
        else:
            cells = np.arange(n_cells)
        if self.sizes_[cells].sum() < k:  # rare: small or empty cells (e.g. many duplicate rows)
            cells = np.argsort(cell_scores, kind="stable")
            cells = cells[: np.searchsorted(np.cumsum(self.sizes_[cells]), k) + 1]
        return cells

    # ---- quality of the approximate index -------------------------------------------------------
    def recall(self, k: int = 10, n_queries: int = RECALL_QUERIES, seed: int = 0) -> float:
        """recall@k against exact search: the mean fraction of the true k nearest that the index returns.

        Queries are `n_queries` random rows of the fitted data, each excluding itself. 1.0 for an exact index.
        The default measure (recall@10, 200 queries, seed 0) was taken at build time and is not repeated.
        """
        if self.centroids_ is None:
            return 1.0
        if (k, n_queries, seed) == (10, RECALL_QUERIES, 0):
            return self.recall_
        return self._recall(k, n_queries, seed)

    def _recall(self, k: int, n_queries: int, seed: int) -> float:
        return self._recall_against(*self._recall_truth(k, n_queries, seed), k)

    def _recall_truth(self, k: int, n_queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Random rows of the data and their true k nearest (each row itself excluded)."""
        rows = np.random.default_rng(seed).choice(self.n_samples_, size=min(n_queries, self.n_samples_), replace=False)
        exact, _ = self._exact(self.data_[rows], k + 1)  # unit rows for cosine, which gives the same neighbours
        exact, _ = _drop(exact, np.zeros_like(exact, np.float32), rows, k)
        return rows, exact

    def _recall_against(self, rows: np.ndarray, truth: np.ndarray, k: int) -> float:
        found, _ = self.query(self.data_[rows], k, exclude=rows)
        return recall_at_k(found, truth)

    # ---- storage ---------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write an approximate index to <path> (.npz) atomically: plain arrays, no pickles."""
        if getattr(self, "centroids_", None) is None:
            raise ExplorerError("only an approximate index is stored: exact search needs nothing but the vectors")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"format": np.array(INDEX_FORMAT), "metric": np.array(self.metric),
                  "shape": np.array([self.n_samples_, self.dim_]), "probe": self.probe_,
                  "centroids": self.centroids_, "order": self.order_.astype(_index_dtype(self.n_samples_)),
                  "sizes": self.sizes_.astype(_index_dtype(self.n_samples_)), "n_probe": np.array(self.n_probe_),
                  "recall": np.array(self.recall_), "build_seconds": np.array(self.build_seconds_)}
        return atomic_write_file(path, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path: str | Path, X) -> NeighborIndex:
        """A stored approximate index of the rows of X (N, d), which it does not store itself.

        Raises ExplorerError if the file is unreadable or damaged, or was built from other vectors."""
        try:
            with np.load(path, allow_pickle=False) as f:
                stored = {key: f[key] for key in f.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ExplorerError(f"{path}: unreadable stored neighbour index ({type(exc).__name__}); "
                                "delete it to rebuild") from None
        X = _as_2d(X, "index data")
        problem = _stored_problem(stored, X)
        if problem:
            raise ExplorerError(f"{path}: stored neighbour index {problem}; delete it to rebuild")
        index = cls(str(stored["metric"]), "approximate", n_cells=len(stored["centroids"]),
                    n_probe=int(stored["n_probe"]))
        index.method_ = "approximate"
        index._set_data(X)
        index._set_cells(stored["centroids"], stored["order"], stored["sizes"])
        index.n_probe_, index.recall_ = int(stored["n_probe"]), float(stored["recall"])
        index.build_seconds_ = float(stored["build_seconds"])  # the time it took to build, not to load
        return index


def _index_dtype(n: int):
    return np.int32 if n < 2**31 else np.int64  # row ids: half the file at up to 2 billion rows


def _stored_problem(stored: dict, X: np.ndarray) -> str | None:
    """What is wrong with a stored index's arrays for the vectors X, or None when they make its index."""
    scalars = ("format", "metric", "n_probe", "recall", "build_seconds")
    if not {*scalars, "shape", "probe", "centroids", "order", "sizes"} <= set(stored):
        return "is of another format"
    try:
        if any(stored[key].shape != () for key in scalars) or int(stored["format"]) != INDEX_FORMAT:
            return "is of another format"
        n, d = X.shape
        if stored["shape"].tolist() != [n, d] or not same_codes(stored["probe"], X):
            return "was built from other vectors"
        centroids, order, sizes = stored["centroids"], stored["order"], stored["sizes"]
        ok = (str(stored["metric"]) in METRICS and centroids.ndim == 2 and centroids.shape[1] == d
              and np.isfinite(centroids).all() and sizes.shape == (len(centroids),) and (sizes >= 0).all()
              and int(sizes.sum()) == n and order.shape == (n,) and order.dtype.kind == "i"
              and 1 <= int(stored["n_probe"]) <= len(centroids) and np.isfinite(float(stored["recall"]))
              and order.min() >= 0 and order.max() < n and (np.bincount(order, minlength=n) == 1).all())
    except (TypeError, ValueError):  # e.g. text where a number belongs
        ok = False
    return None if ok else "is damaged"


def _kmeans(sample: np.ndarray, n_cells: int, n_iter: int, rng, progress) -> np.ndarray:
    """Lloyd's k-means from n_cells random rows of the sample; a cell left empty keeps its centre."""
    from scipy import sparse

    centroids = sample[np.sort(rng.choice(len(sample), size=n_cells, replace=False))].astype(np.float32)
    for it in range(n_iter):
        cells = _nearest_centroid(sample, centroids)
        members = sparse.csr_matrix((np.ones(len(sample)), (cells, np.arange(len(sample)))),
                                    shape=(n_cells, len(sample)))  # (C, S) one-hot: members @ sample sums each cell
        sizes = np.bincount(cells, minlength=n_cells)
        full = sizes > 0
        centroids[full] = (members @ sample)[full] / sizes[full, None]
        progress(it + 1)
    return centroids


def _nearest_centroid(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The nearest centre's number for each row of x (N, d), in blocks of at most MATRIX_ELEMENTS distances."""
    sq = np.einsum("ij,ij->i", centroids, centroids)
    batch = max(1, MATRIX_ELEMENTS // 4 // len(centroids))
    out = np.empty(len(x), np.intp)
    for s in range(0, len(x), batch):
        out[s : s + batch] = np.argmin(sq[None] - 2.0 * (x[s : s + batch] @ centroids.T), axis=1)
    return out


def _rescore(found: np.ndarray, q: np.ndarray, metric: str) -> np.ndarray:
    """Distances (B, c), in float64, of candidates found (B, c, d) to queries q (B, d), computed directly."""
    found = found.astype(np.float64)
    if metric == "cosine":
        return np.maximum(1.0 - np.einsum("bcd,bd->bc", found, q.astype(np.float64)), 0.0)
    diff = found - q[:, None, :]
    return np.sqrt(np.einsum("bcd,bcd->bc", diff, diff))


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController  # scikit-learn's dependency

    return ThreadpoolController()  # inspecting the loaded libraries is slow: do it once


def _drop(idx: np.ndarray, dist: np.ndarray, exclude: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's excluded id (or its last entry when the id is absent); keep k per row."""
    keep = idx != exclude[:, None]  # (Q, k+1)
    keep[keep.all(axis=1), -1] = False
    return idx[keep].reshape(len(idx), -1)[:, :k], dist[keep].reshape(len(idx), -1)[:, :k]


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of each row of `truth` (Q, k) that appears in the same row of `found` (Q, k)."""
    found, truth = np.atleast_2d(found), np.atleast_2d(truth)
    hits = [len(np.intersect1d(f, t)) for f, t in zip(found, truth)]
    return float(np.mean(hits) / truth.shape[1])


# ---- stored beside a checkpoint ------------------------------------------------------------------

def index_path(ckpt_dir: str | Path, metric: str = "euclidean") -> Path:
    return Path(ckpt_dir) / INDEX_FOLDER / f"{metric}.npz"


def stored_index(ckpt_dir: str | Path, vectors, metric: str = "euclidean") -> NeighborIndex | None:
    """The stored approximate index of these vectors (a checkpoint's codes), or None; never builds one."""
    path = index_path(ckpt_dir, metric)
    if not path.is_file():
        return None
    try:
        index = NeighborIndex.load(path, vectors)
    except ExplorerError:
        return None  # stale or damaged: build_index replaces it
    return index if index.metric == metric else None


def build_index(ckpt_dir: str | Path, vectors, metric: str = "euclidean", progress=None,
                method: str = "auto") -> NeighborIndex:
    """Fit an index of these vectors and store it beside the checkpoint when it is approximate ("auto":
    above APPROX_THRESHOLD rows); in a read-only folder it is kept in memory only."""
    index = NeighborIndex(metric, method).fit(vectors, progress)
    if index.method_ == "approximate":
        try:
            index.save(index_path(ckpt_dir, metric))
        except OSError:
            pass  # a read-only checkpoint folder
    return index


@dataclass
class Neighbors:
    """One query's k nearest neighbours, nearest first, and how many share its label."""

    indices: np.ndarray  # (k,) row ids
    distances: np.ndarray  # (k,)
    labels: np.ndarray | None  # (k,) their labels, when the data has labels
    precision: float | None  # precision@k: the fraction with the query's label, when the query's label is known

    @property
    def majority(self) -> tuple[int, int] | None:
        """(label, count) of the most common label among the neighbours."""
        if self.labels is None:
            return None
        values, counts = np.unique(self.labels, return_counts=True)
        return int(values[counts.argmax()]), int(counts.max())


def neighbors_of(index: NeighborIndex, vector, k: int, labels=None, query_label=None, exclude=None) -> Neighbors:
    """Search one query vector (d,); exclude: its own row when the query is one of the indexed images."""
    idx, dist = index.query(np.asarray(vector)[None], k, exclude=exclude)
    nb_labels = None if labels is None else np.asarray(labels)[idx[0]]
    precision = None
    if nb_labels is not None and query_label is not None:
        precision = precision_at_k(nb_labels[None], [query_label])
    return Neighbors(idx[0], dist[0], nb_labels, precision)
