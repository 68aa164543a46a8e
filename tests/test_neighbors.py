"""Nearest-neighbour search: exact search is brute force's answer; the approximate index is measured against it."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from explorer.checkpoints import load_checkpoint
from explorer.errors import ExplorerError
from explorer.evaluate import encode_all
from explorer.neighbors import NeighborIndex, neighbors_of, recall_at_k

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pixels(mnist5k) -> np.ndarray:
    return mnist5k.images[:].flatten(1).numpy()  # (5000, 784) real digits


@pytest.fixture(scope="module")
def codes(mnist5k) -> np.ndarray:
    """Codes (5000, 16) of the shipped conv-ae-d16."""
    model, _ = load_checkpoint(ROOT / "checkpoints" / "mnist5k" / "conv-ae-d16", mnist5k.image_shape)
    return encode_all(model, mnist5k.images).numpy()


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_search_is_brute_force(pixels, metric):
    data, queries = pixels[:4000], pixels[4000:4100]
    idx, dist = NeighborIndex(metric=metric).fit(data).query(queries, k=10)
    ref_dist, ref_idx = NearestNeighbors(n_neighbors=10, metric=metric, algorithm="brute").fit(data).kneighbors(queries)
    assert idx.shape == dist.shape == (100, 10)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-4, atol=1e-5)
    assert (idx == ref_idx).mean() > 0.99  # any difference is a tie in distance
    assert np.all(np.diff(dist, axis=1) >= 0)  # nearest first


def test_cosine_ignores_length_euclidean_does_not(codes):
    rng = np.random.default_rng(0)
    scaled = codes * rng.uniform(0.1, 10.0, size=(len(codes), 1)).astype(np.float32)  # each row its own length
    q = codes[:50]
    cos_idx, cos_dist = NeighborIndex(metric="cosine").fit(scaled).query(q, k=10)
    assert (cos_idx == NeighborIndex(metric="cosine").fit(codes).query(q, k=10)[0]).mean() > 0.99
    assert cos_dist.min() >= -1e-6 and cos_dist.max() <= 2 + 1e-6  # 1 - cos lies in [0, 2]
    euc_idx, _ = NeighborIndex(metric="euclidean").fit(scaled).query(q, k=10)
    assert (euc_idx == cos_idx).mean() < 0.5  # the lengths now dominate euclidean distance
    # cosine neighbours = euclidean neighbours of unit-length rows
    unit = codes / np.linalg.norm(codes, axis=1, keepdims=True)
    unit_idx, _ = NeighborIndex(metric="euclidean").fit(unit).query(unit[:50], k=10)
    assert (unit_idx == NeighborIndex(metric="cosine").fit(codes).query(q, k=10)[0]).mean() > 0.99
    # an all-zero code (a dead sparse code) is at cosine distance 1 from everything, as in scikit-learn
    with_zero = np.vstack([codes[:100], np.zeros((1, codes.shape[1]), np.float32)])
    _, d = NeighborIndex(metric="cosine").fit(with_zero).query(with_zero[-1], k=5)
    np.testing.assert_allclose(d, 1.0)


def test_exclude_drops_the_query_itself(codes):
    index = NeighborIndex().fit(codes)
    rows = np.arange(20)
    idx, dist = index.query(codes[rows], k=5, exclude=rows)
    assert idx.shape == (20, 5)
    assert not np.any(idx == rows[:, None])
    with_self, _ = index.query(codes[rows], k=6)
    assert (with_self[:, 0] == rows).all()  # a row's own nearest neighbour is itself, at distance 0
    np.testing.assert_array_equal(idx, with_self[:, 1:])
    # a query that is not an indexed row still gets k neighbours when exclude names an absent id
    assert index.query(codes[:1] + 0.5, k=5, exclude=-1)[0].shape == (1, 5)


def test_code_space_neighbours_share_labels(codes, mnist5k):
    index = NeighborIndex().fit(codes)
    found = neighbors_of(index, codes[7], 10, mnist5k.labels, int(mnist5k.labels[7]), exclude=7)
    assert found.indices.shape == (10,) and 7 not in found.indices
    assert found.precision == pytest.approx((mnist5k.labels[found.indices] == mnist5k.labels[7]).mean())
    rows = np.arange(0, 5000, 25)
    idx, _ = index.query(codes[rows], k=10, exclude=rows)
    precision = (mnist5k.labels[idx] == mnist5k.labels[rows, None]).mean()
    assert precision > 0.85  # a trained conv-ae d=16 groups digits by class (chance is 0.1)
    assert found.majority[1] >= 5


def test_bad_input_is_a_clear_error(codes):
    with pytest.raises(ExplorerError, match="metric"):
        NeighborIndex(metric="manhattan")
    with pytest.raises(ExplorerError, match="not fitted"):
        NeighborIndex().query(codes[:1], 3)
    index = NeighborIndex().fit(codes[:10])
    with pytest.raises(ExplorerError, match="only 9"):
        index.query(codes[:1], 10, exclude=0)
    with pytest.raises(ExplorerError, match="dimensions"):
        index.query(np.zeros(3), 3)
    with pytest.raises(ExplorerError, match="NaN"):
        index.query(np.full(16, np.nan), 3)


def test_recall_at_k():
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert recall_at_k(truth, truth) == 1.0
    assert recall_at_k(np.array([[4, 3, 9, 9], [0, 0, 0, 0]]), truth) == pytest.approx(0.25)


def test_auto_picks_exact_below_the_threshold(codes):
    index = NeighborIndex(method="auto", threshold=20_000).fit(codes)
    assert index.method_ == "exact" and index.ann_ is None and index.recall() == 1.0


@pytest.mark.slow  # pynndescent compiles its numba code on first use: about a minute on a busy 2-core machine
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_approximate_index_recall_against_exact(codes, metric):
    index = NeighborIndex(metric=metric, method="auto", threshold=1_000).fit(codes)
    assert index.method_ == "approximate"
    recall = index.recall(k=10, n_queries=300)
    assert recall >= 0.9
    # the same measure, computed independently with scikit-learn's brute force
    rows = np.arange(0, 5000, 17)
    approx, _ = index.query(codes[rows], k=10, exclude=rows)
    truth = NearestNeighbors(n_neighbors=11, metric=metric, algorithm="brute").fit(codes).kneighbors(
        codes[rows], return_distance=False)[:, 1:]
    independent = recall_at_k(approx, truth)
    assert independent >= 0.9 and abs(independent - recall) < 0.05
    # its distances are the true distances of the rows it returns
    i, d = index.query(codes[:5], k=10)
    q, found = codes[:5, None], codes[i]  # (5, 1, d), (5, 10, d)
    if metric == "euclidean":
        true = np.linalg.norm(found - q, axis=2)
    else:
        true = 1 - (found * q).sum(2) / (np.linalg.norm(found, axis=2) * np.linalg.norm(q, axis=2))
    np.testing.assert_allclose(d, true, rtol=1e-3, atol=1e-3)
