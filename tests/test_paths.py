"""explorer.paths: the straight path is linear in code space; the data path joins the picked codes by short edges
of the kNN graph, goes round empty space, and is capped on a large set; filmstrips export as PNG and GIF."""

import io

import numpy as np
import pytest
from PIL import Image
from sklearn.neighbors import NearestNeighbors

from explorer import paths as P
from explorer.errors import ExplorerError


@pytest.fixture
def arc():
    """400 codes along a half circle of radius 1 (plus noise), 3-D: the straight chord crosses empty space."""
    rng = np.random.default_rng(0)
    a = np.linspace(0, np.pi, 400) + rng.uniform(-0.002, 0.002, 400)
    arc = np.column_stack([np.cos(a), np.sin(a), np.zeros_like(a)]) + rng.normal(0, 0.01, (400, 3))
    return arc.astype(np.float32)


def test_straight_path_is_linear_in_code_space():
    z0, z1 = np.array([0.0, 1.0, -2.0]), np.array([3.0, -1.0, 2.0])
    line = P.straight_path(z0, z1, 7)
    assert line.shape == (7, 3)
    np.testing.assert_allclose(line[0], z0) and np.testing.assert_allclose(line[-1], z1)
    np.testing.assert_allclose(np.diff(line, 2, axis=0), 0, atol=1e-6)  # equal steps in one direction


def test_data_path_follows_short_knn_edges_between_the_picked_codes(arc):
    start, end = int(np.argmin(arc[:, 0])), int(np.argmax(arc[:, 0]))
    path = P.data_path(arc, arc[start], arc[end], k=10, start_row=start, end_row=end)
    np.testing.assert_array_equal(path.codes[0], arc[start])
    np.testing.assert_array_equal(path.codes[-1], arc[end])
    assert path.rows[0] == start and path.rows[-1] == end and len(set(path.rows)) == len(path.rows)
    np.testing.assert_array_equal(arc[path.rows], path.codes)  # every step is a real code
    steps = np.linalg.norm(np.diff(path.codes, axis=0), axis=1)
    assert path.length == pytest.approx(steps.sum(), rel=1e-6)
    # each step is an edge of the kNN graph: one end is among the other's 10 nearest codes
    radius = NearestNeighbors(n_neighbors=11).fit(arc).kneighbors(arc)[0][:, -1]
    assert np.all(steps <= np.maximum(radius[path.rows[:-1]], radius[path.rows[1:]]) + 1e-6)
    # it goes round the arc (length ~ pi), not along the chord (2), and never through the empty middle
    assert path.straight == pytest.approx(2.0, abs=0.05) and 2.9 < path.length < 3.6
    assert np.linalg.norm(path.codes[:, :2], axis=1).min() > 0.9
    assert path.graph_size == 400 and path.n_data == 400 and not path.sampled


def test_endpoints_off_the_data_join_the_graph(arc):
    path = P.data_path(arc, np.array([-1.05, 0.0, 0.0]), np.array([1.05, 0.0, 0.0]))
    assert path.rows[0] == -1 and path.rows[-1] == -1 and np.all(path.rows[1:-1] >= 0)
    assert path.graph_size == 402 and not path.sampled


def test_large_sets_use_a_capped_sample_with_the_endpoints(monkeypatch, arc):
    monkeypatch.setattr(P, "GRAPH_MAX", 150)
    path = P.data_path(arc, arc[0], arc[-1], start_row=0, end_row=399)
    assert path.graph_size == 150 and path.n_data == 400 and path.sampled
    assert path.rows[0] == 0 and path.rows[-1] == 399


def test_unconnected_ends_say_so():
    noise = np.random.default_rng(1).normal(0, 0.1, (200, 2))
    codes = np.vstack([np.zeros((100, 2)), np.full((100, 2), 100.0)]) + noise
    with pytest.raises(ExplorerError, match="not connected"):
        P.data_path(codes, codes[0], codes[-1], k=5, start_row=0, end_row=199)  # k 5, 10, 20, 40: still apart


def test_ends_apart_at_k_are_joined_with_more_neighbours():
    rng = np.random.default_rng(1)
    codes = np.vstack([rng.normal(0, 0.1, (30, 2)), rng.normal(0, 0.1, (30, 2)) + 3.0])
    path = P.data_path(codes, codes[0], codes[-1], k=5, start_row=0, end_row=59)  # 5 joins nothing across
    assert path.k > 5 and path.rows[0] == 0 and path.rows[-1] == 59


def test_knn_graph_is_symmetric_with_distance_weights(arc):
    g = P.knn_graph(arc[:50].astype(np.float64), k=4)
    assert (g != g.T).nnz == 0
    i, j = g.nonzero()
    np.testing.assert_allclose(g[i, j].A1, np.linalg.norm(arc[i] - arc[j], axis=1), rtol=1e-5)
    assert np.all(np.diff(g.indptr) >= 4)  # at least its own 4 neighbours per code


def test_filmstrip_png_and_gif_decode_back():
    frames = [np.full((28, 28), v) for v in np.linspace(0, 1, 6)]  # distinct frames (GIF merges equal ones)
    png = Image.open(io.BytesIO(P.filmstrip_png(frames, scale=3, gap=2)))
    assert png.format == "PNG" and png.size == (6 * 84 + 5 * 2, 84)
    gif = Image.open(io.BytesIO(P.filmstrip_gif(frames, scale=4)))
    assert gif.format == "GIF" and gif.n_frames == 6 and gif.size == (112, 112)
    gif.seek(5)
    assert np.asarray(gif.convert("L")).mean() == pytest.approx(255, abs=1)  # the last frame is white
    rgb = [np.random.default_rng(2).uniform(0, 1, (8, 8, 3)) for _ in range(3)]
    assert Image.open(io.BytesIO(P.filmstrip_png(rgb, scale=1, gap=0))).size == (24, 8)


def test_evenly_keeps_both_ends():
    np.testing.assert_array_equal(P.evenly(np.arange(100), 5), [0, 25, 50, 74, 99])
    np.testing.assert_array_equal(P.evenly(np.arange(3), 5), [0, 1, 2])


def test_progress_is_the_fraction_of_length_walked():
    np.testing.assert_allclose(P.progress(np.array([[0.0, 0], [1, 0], [1, 3]])), [0, 0.25, 1])
    np.testing.assert_allclose(P.progress(P.straight_path([0, 0], [2, 2], 5)), np.linspace(0, 1, 5), atol=1e-6)
    np.testing.assert_allclose(P.progress(np.zeros((3, 2))), [0, 0.5, 1])  # a path of length 0


def test_a_million_codes_give_a_path_through_a_capped_graph():
    import time

    codes = np.random.default_rng(0).normal(size=(1_000_000, 16)).astype(np.float32)
    t = time.perf_counter()
    path = P.data_path(codes, codes[0], codes[1], start_row=0, end_row=1)
    assert time.perf_counter() - t < 60  # seconds here, whatever N
    assert path.graph_size == P.GRAPH_MAX and path.n_data == 1_000_000
    assert path.rows[0] == 0 and path.rows[-1] == 1 and np.all(path.rows[1:-1] >= 2)


def test_paths_through_several_waypoints_pass_each_in_order(arc):
    stops = [0, 200, 399]
    path = P.data_path_through(arc, arc[stops], rows=stops)
    where = [int(np.flatnonzero(path.rows == r)[0]) for r in stops]
    assert where[0] == 0 and where[0] < where[1] < where[2] == len(path.rows) - 1
    assert len(set(path.rows)) == len(path.rows)  # the joint at 200 once
    steps = np.linalg.norm(np.diff(path.codes, axis=0), axis=1)
    assert path.length == pytest.approx(steps.sum(), rel=1e-6) and steps.max() < 0.1
    chords = np.linalg.norm(arc[0] - arc[200]) + np.linalg.norm(arc[200] - arc[399])
    assert path.straight == pytest.approx(chords, rel=1e-6)
    corner = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])  # legs of length 1 and 2
    line = P.straight_through(corner, 31)
    np.testing.assert_allclose(line[[0, 10, 30]], corner, atol=1e-6)  # a third of the length: the corner
    np.testing.assert_allclose(np.diff(line[:11], 2, axis=0), 0, atol=1e-6)  # straight within each leg
    np.testing.assert_allclose(np.diff(line[10:], 2, axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(np.diff(line, axis=0), axis=1), 0.1, atol=1e-6)  # equal steps
    np.testing.assert_allclose(P.straight_through(arc[[0, 399]], 5), P.straight_path(arc[0], arc[399], 5))
    with pytest.raises(ExplorerError, match="two ends"):
        P.data_path_through(arc, arc[:1])
