"""Nearest-neighbour search: exact search is brute force's answer; the approximate index is measured against it,
stored as plain arrays and refused for other vectors; the `explorer neighbors` command."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from explorer import neighbors
from explorer.checkpoints import load_checkpoint
from explorer.cli import main
from explorer.errors import ExplorerError
from explorer.evaluate import encode_all
from explorer.neighbors import NeighborIndex, build_index, index_path, neighbors_of, recall_at_k, stored_index

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
    assert index.method_ == "exact" and index.centroids_ is None and index.recall() == 1.0
    assert NeighborIndex(method="auto", threshold=1_000).fit(codes).method_ == "approximate"


# ---- the approximate index (IVF) -------------------------------------------------------------------

@pytest.fixture(scope="module")
def unclustered() -> np.ndarray:
    """Vectors without cluster structure (i.i.d. Gaussian, 16-d): the hard case for an index of cells."""
    return np.random.default_rng(0).standard_normal((5000, 16)).astype(np.float32)


def approximate(metric="euclidean", **options) -> NeighborIndex:
    return NeighborIndex(metric, "approximate", **options)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("space", ["codes", "unclustered"])
def test_approximate_index_recall_against_exact(request, space, metric):
    vectors = request.getfixturevalue(space)
    data, queries = vectors[:4500], vectors[4500:]  # held-out queries, like an uploaded image
    index = approximate(metric).fit(data)
    assert index.method_ == "approximate" and 1 <= index.n_probe_ < len(index.centroids_)
    assert index.recall() == index.recall_ >= 0.95  # measured at build time on indexed rows
    found, dist = index.query(queries, k=10)
    truth = NearestNeighbors(n_neighbors=10, metric=metric, algorithm="brute").fit(data).kneighbors(
        queries, return_distance=False)
    assert recall_at_k(found, truth) >= 0.95  # the same measure, computed independently
    # its distances are the true distances of the rows it returns, nearest first
    q, near = queries[:, None], data[found]  # (Q, 1, d), (Q, 10, d)
    if metric == "euclidean":
        true = np.linalg.norm(near - q, axis=2)
    else:
        true = 1 - (near * q).sum(2) / (np.linalg.norm(near, axis=2) * np.linalg.norm(q, axis=2))
    np.testing.assert_allclose(dist, true, rtol=1e-4, atol=1e-5)
    assert np.all(np.diff(dist, axis=1) >= 0)


def test_approximate_exclude_and_batches(codes):
    index = approximate().fit(codes)
    rows = np.arange(0, 5000, 50)
    idx, dist = index.query(codes[rows], k=5, exclude=rows)
    assert idx.shape == dist.shape == (100, 5) and not np.any(idx == rows[:, None])
    with_self, self_dist = index.query(codes[rows], k=6)
    assert (with_self[:, 0] == rows).all() and np.allclose(self_dist[:, 0], 0)  # a row's nearest is itself
    np.testing.assert_array_equal(idx, with_self[:, 1:])
    # a batch of queries gets the answers of the same queries asked one at a time
    single = [index.query(codes[r], k=5, exclude=r) for r in rows]
    np.testing.assert_array_equal(idx, np.concatenate([i for i, _ in single]))
    np.testing.assert_array_equal(dist, np.concatenate([d for _, d in single]))
    # seeded: a second build is the same index
    again = approximate().fit(codes)
    np.testing.assert_array_equal(again.centroids_, index.centroids_)
    np.testing.assert_array_equal(again.query(codes[rows], k=5, exclude=rows)[0], idx)


def test_empty_cells_and_duplicates_still_give_k(codes):
    data = np.vstack([np.repeat(codes[:1], 3000, axis=0), codes[1:201]])  # most cells start on the same code
    index = approximate(n_probe=1).fit(data)
    idx, dist = index.query(codes[1:4], k=30)
    assert idx.shape == (3, 30) and all(len(set(row)) == 30 for row in idx)
    assert (index.sizes_ == 0).sum() > len(index.sizes_) / 2  # most cells are empty
    _, exact = NeighborIndex(method="exact").fit(data).query(codes[1:4], k=30)
    assert np.all(dist >= exact - 1e-4)  # true distances (never nearer than the truth) ...
    assert np.all(dist[:, 0] == 0)  # ... and each query's own row (its cell holds just a few rows) is found


# ---- stored beside a checkpoint --------------------------------------------------------------------

@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_save_load_round_trip(codes, tmp_path, metric):
    index = approximate(metric).fit(codes)
    path = index.save(tmp_path / "index.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["index.npz"]  # written atomically: no temporary left
    with np.load(path, allow_pickle=False) as f:  # plain arrays: it opens without unpickling anything
        assert all(f[key].dtype != object for key in f.files)
    loaded = NeighborIndex.load(path, codes)
    assert (loaded.method_, loaded.metric, loaded.n_probe_, loaded.recall_, loaded.build_seconds_) == (
        "approximate", metric, index.n_probe_, index.recall_, index.build_seconds_)
    q = codes[::37]
    for ours, theirs in zip(index.query(q, 10), loaded.query(q, 10)):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ExplorerError, match="only an approximate index"):
        NeighborIndex(method="exact").fit(codes).save(tmp_path / "exact.npz")


def test_load_refuses_other_vectors_and_damaged_files(codes, tmp_path):
    path = approximate().fit(codes).save(tmp_path / "index.npz")
    for other in (codes[:4000], codes[::-1], codes + 1.0):
        with pytest.raises(ExplorerError, match="built from other vectors; delete it to rebuild"):
            NeighborIndex.load(path, other)
    data = path.read_bytes()
    with np.load(path) as f:
        arrays = dict(f)
    np.savez(tmp_path / "pickled.npz", **{**arrays, "centroids": np.array([{"x": 1}], dtype=object)})
    broken = {"truncated": data[: len(data) // 2], "garbage": b"not an index at all", "empty": b"",
              "pickled": (tmp_path / "pickled.npz").read_bytes()}  # an object array is never unpickled
    for name, content in broken.items():
        (tmp_path / f"{name}.npz").write_bytes(content)
        with pytest.raises(ExplorerError, match="unreadable stored neighbour index") as err:
            NeighborIndex.load(tmp_path / f"{name}.npz", codes)
        assert "\n" not in str(err.value)
    with pytest.raises(ExplorerError, match="unreadable"):
        NeighborIndex.load(tmp_path / "missing.npz", codes)
    # readable arrays that do not make an index of these vectors
    for name, change in {"order": np.zeros_like(arrays["order"]), "sizes": arrays["sizes"] + 1,
                         "n_probe": np.array(0), "recall": np.array("high"), "metric": np.array("manhattan"),
                         "centroids": arrays["centroids"][:, :3]}.items():
        np.savez(tmp_path / f"bad-{name}.npz", **{**arrays, name: change})
        with pytest.raises(ExplorerError, match="is damaged"):
            NeighborIndex.load(tmp_path / f"bad-{name}.npz", codes)
    np.savez(tmp_path / "old.npz", **{**arrays, "format": np.array(0)})
    with pytest.raises(ExplorerError, match="another format"):
        NeighborIndex.load(tmp_path / "old.npz", codes)
    assert zipfile.is_zipfile(path)  # the original is untouched


def test_build_index_stores_it_and_stored_index_never_builds(codes, tmp_path, monkeypatch):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    assert stored_index(ckpt, codes, "euclidean") is None and not (ckpt / "neighbors").exists()
    steps = []
    index = build_index(ckpt, codes, "euclidean", progress=lambda done, total: steps.append((done, total)),
                        method="approximate")
    assert index_path(ckpt, "euclidean") == ckpt / "neighbors" / "euclidean.npz"
    assert index_path(ckpt, "euclidean").is_file() and steps[-1][0] == steps[-1][1]
    stored = stored_index(ckpt, codes, "euclidean")
    assert stored is not None and stored.method_ == "approximate"
    np.testing.assert_array_equal(stored.query(codes[:20], 10)[0], index.query(codes[:20], 10)[0])
    assert stored_index(ckpt, codes, "cosine") is None  # each metric has its own index
    assert stored_index(ckpt, codes[::-1], "euclidean") is None  # other codes (e.g. a retrained model)
    index_path(ckpt, "euclidean").write_bytes(b"damaged")
    assert stored_index(ckpt, codes, "euclidean") is None
    small = tmp_path / "small"
    small.mkdir()
    assert build_index(small, codes, "euclidean").method_ == "exact"  # "auto" below the threshold: exact
    assert not (small / "neighbors").exists()  # exact search needs nothing stored

    def read_only(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(neighbors, "atomic_write_file", read_only)
    index = build_index(ckpt, codes, "cosine", method="approximate")  # kept in memory only
    assert index.query(codes[0], 3)[0].shape == (1, 3) and not index_path(ckpt, "cosine").exists()


# ---- explorer neighbors ------------------------------------------------------------------------------

@pytest.fixture
def shipped(checkpoint_copy) -> Path:
    return checkpoint_copy / "mnist5k" / "conv-ae-d16"


def cli_json(capsys, *args) -> dict:
    assert main(["neighbors", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_neighbors_of_a_row_are_exact_searchs(shipped, mnist5k, capsys):
    out = cli_json(capsys, shipped, "--index", 7)
    stored = np.load(shipped / "codes.npy")  # the codes the command searched
    idx, dist = NeighborIndex(method="exact").fit(stored).query(stored[7], 10, exclude=7)
    assert (out["query"], out["k"], out["metric"], out["index"]["method"]) == (7, 10, "euclidean", "exact")
    assert [nb["index"] for nb in out["neighbors"]] == idx[0].tolist()
    np.testing.assert_allclose([nb["distance"] for nb in out["neighbors"]], dist[0], rtol=1e-5)
    assert [nb["label"] for nb in out["neighbors"]] == mnist5k.labels[idx[0]].tolist()
    # the approximate index: built and stored by the first call, read by the second
    first = cli_json(capsys, shipped, "--index", 7, "--method", "approximate", "--metric", "cosine", "--k", 5)
    assert (shipped / "neighbors" / "cosine.npz").is_file() and first["index"]["method"] == "approximate"
    second = cli_json(capsys, shipped, "--index", 7, "--method", "approximate", "--metric", "cosine", "--k", 5)
    assert second == first
    truth, _ = NeighborIndex("cosine", "exact").fit(stored).query(stored[7], 5, exclude=7)
    assert [nb["index"] for nb in first["neighbors"]] == truth[0].tolist()
    # the table
    assert main(["neighbors", str(shipped), "--index", "7", "--k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and lines[1].split() == ["rank", "index", "distance", "label"]
    assert lines[2].split()[:2] == ["1", str(idx[0, 0])]


def test_cli_neighbors_of_an_image_file(shipped, mnist5k, tmp_path, capsys):
    from PIL import Image

    digit = (mnist5k.images[7][0].numpy() * 255).round().astype(np.uint8)  # (28, 28)
    Image.fromarray(255 - digit).resize((112, 112)).save(tmp_path / "digit.png")  # dark ink on white, larger
    out = cli_json(capsys, shipped, "--image", tmp_path / "digit.png", "--k", 5)
    assert out["query"] == str(tmp_path / "digit.png") and len(out["neighbors"]) == 5
    assert [nb["label"] for nb in out["neighbors"]].count(int(mnist5k.labels[7])) >= 4
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert main(["neighbors", str(shipped), "--image", str(tmp_path / "broken.png")]) == 2
    assert "broken.png: not a readable image" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--index", "-1"], "--index -1 is out of range: the dataset has 5,000 images"),
    (["--index", "0", "--k", "0"], "--k must be a positive integer"),
    (["--index", "0", "--k", "5000"], "only 4999 to choose from"),
    (["--image", "/does/not/exist.png"], "no such image file"),
])
def test_cli_neighbors_bad_input(shipped, capsys, args, message):
    assert main(["neighbors", str(shipped), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_neighbors_bad_row_is_one_line_and_a_non_zero_exit(shipped):
    proc = subprocess.run([sys.executable, "-m", "explorer", "neighbors", str(shipped), "--index", "5000"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("error: --index 5000 is out of range: the dataset has 5,000 images, "
                                   "numbered 0 to 4999")
