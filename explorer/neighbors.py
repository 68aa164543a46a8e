"""k nearest neighbours of codes (or pixels): exact for small sets, an approximate index above a threshold.

`NeighborIndex` looks like a scikit-learn estimator: `fit(X)` returns self, fitted attributes end in `_`,
`query(q, k)` returns `(indices, distances)`, both (Q, k), nearest first.

- exact: one matrix product per batch of queries, then the k best by `argpartition`; the few candidates
  are re-scored directly so the distances are not hurt by the cancellation in |x|^2 - 2 x.q + |q|^2.
- approximate: pynndescent's NN-descent graph (umap-learn brings it). Its first use in a process compiles
  numba code (tens of seconds); after that a query takes microseconds. `recall(k)` measures it against exact.

Distances: euclidean is |x - q|; cosine is 1 - cos(x, q), as in scikit-learn and pynndescent.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np

from explorer.errors import ExplorerError
from explorer.metrics import precision_at_k

METRICS = ("euclidean", "cosine")
METHODS = ("auto", "exact", "approximate")
APPROX_THRESHOLD = 20_000  # above this many rows "auto" builds the approximate index
QUERY_BATCH = 512  # exact search: queries per (batch, N) distance matrix


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


class NeighborIndex:
    """Nearest neighbours under euclidean or cosine distance.

    method: "exact", "approximate" (pynndescent) or "auto" (approximate above `threshold` rows).
    n_neighbors (graph degree) and epsilon (search breadth) trade the approximate index's build and
    query time against its recall.
    Fitted: method_, n_samples_, dim_, build_seconds_.
    """

    def __init__(self, metric: str = "euclidean", method: str = "auto", threshold: int = APPROX_THRESHOLD,
                 n_neighbors: int = 30, epsilon: float = 0.1, random_state: int = 0):
        if metric not in METRICS:
            raise ExplorerError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
        if method not in METHODS:
            raise ExplorerError(f"unknown search method {method!r}; choose one of {', '.join(METHODS)}")
        self.metric, self.method, self.threshold = metric, method, threshold
        self.n_neighbors, self.epsilon, self.random_state = n_neighbors, epsilon, random_state

    # ---- fit -------------------------------------------------------------------------------------
    def fit(self, X) -> NeighborIndex:
        X = _as_2d(X, "index data")
        if len(X) < 2:
            raise ExplorerError("index data: need at least 2 vectors to search among")
        start = time.perf_counter()
        self.n_samples_, self.dim_ = X.shape
        self.method_ = self.method if self.method != "auto" else (
            "approximate" if len(X) > self.threshold else "exact")
        # exact search keeps the (unit-length, for cosine) rows and their squared norms
        self.data_ = _unit_rows(X) if self.metric == "cosine" else np.ascontiguousarray(X)
        self.sq_norms_ = np.einsum("ij,ij->i", self.data_, self.data_)  # (N,)
        self.ann_ = self._build_approximate(X) if self.method_ == "approximate" else None
        self.build_seconds_ = time.perf_counter() - start
        return self

    def _build_approximate(self, X: np.ndarray):
        from pynndescent import NNDescent

        ann = NNDescent(X, metric=self.metric, n_neighbors=min(self.n_neighbors, len(X) - 1),
                        random_state=self.random_state, low_memory=True)
        ann.prepare()  # builds the search graph now, so the first query is fast
        return ann

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
        if self.ann_ is not None:
            idx, dist = self.ann_.query(q, k=k + extra, epsilon=self.epsilon)
            idx, dist = idx.astype(np.int64), dist.astype(np.float32)
        else:
            idx, dist = self._exact(q, k + extra)
        if exclude is not None:
            idx, dist = _drop(idx, dist, np.broadcast_to(np.asarray(exclude), (len(q),)), k)
        return idx, dist

    def _exact(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        # One BLAS thread: for a (1, d) x (d, N) product OpenBLAS's extra threads cost more than they save,
        # and on a busy machine their spin-waiting turned a 0.05 ms product into 25 ms.
        with _blas_controller().limit(limits=1, user_api="blas"):
            return self._exact_search(q, k)

    def _exact_search(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.metric == "cosine":
            q = _unit_rows(q)
        n_cand = min(self.n_samples_, k + 8)  # a few spare candidates for the exact re-scoring below
        out_idx, out_dist = [], []
        for s in range(0, len(q), QUERY_BATCH):
            qb = q[s : s + QUERY_BATCH]  # (B, d)
            if self.metric == "cosine":
                score = -(qb @ self.data_.T)  # (B, N): smaller is nearer
            else:
                score = self.sq_norms_[None] - 2.0 * (qb @ self.data_.T)  # |x|^2 - 2 x.q: same order as |x-q|^2
            if n_cand < self.n_samples_:
                cand = np.argpartition(score, n_cand - 1, axis=1)[:, :n_cand]  # (B, n_cand), unordered
            else:
                cand = np.broadcast_to(np.arange(self.n_samples_), (len(qb), self.n_samples_))
            found = self.data_[cand].astype(np.float64)  # (B, n_cand, d): re-scored directly, in float64
            if self.metric == "cosine":
                dist = np.maximum(1.0 - np.einsum("bcd,bd->bc", found, qb.astype(np.float64)), 0.0)
            else:
                diff = found - qb[:, None, :]
                dist = np.sqrt(np.einsum("bcd,bcd->bc", diff, diff))
            order = np.argsort(dist, axis=1, kind="stable")[:, :k]
            out_idx.append(np.take_along_axis(cand, order, 1))
            out_dist.append(np.take_along_axis(dist, order, 1))
        return np.concatenate(out_idx).astype(np.int64), np.concatenate(out_dist).astype(np.float32)

    # ---- quality of the approximate index -------------------------------------------------------
    def recall(self, k: int = 10, n_queries: int = 200, seed: int = 0) -> float:
        """recall@k against exact search: the mean fraction of the true k nearest that the index returns.

        Queries are `n_queries` random rows of the fitted data, each excluding itself. 1.0 for an exact index.
        """
        if self.ann_ is None:
            return 1.0
        rows = np.random.default_rng(seed).choice(self.n_samples_, size=min(n_queries, self.n_samples_), replace=False)
        queries = self.data_[rows]  # (Q, d); unit rows for cosine, which gives the same neighbours
        approx, _ = self.query(queries, k, exclude=rows)
        exact, _ = self._exact(queries, k + 1)
        exact, _ = _drop(exact, np.zeros_like(exact, np.float32), rows, k)
        return recall_at_k(approx, exact)


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
