"""The fast inverse from a map spot to a code: exact for linear maps, convex interpolation otherwise."""

import numpy as np
import pytest

from explorer.errors import ExplorerError
from explorer.inverse import LinearInverse, NeighborInverse, grid_points, interpolate
from explorer.project import Projection


@pytest.fixture(scope="module")
def pixels(digits):
    return digits.images[:].flatten(1).numpy()  # (1797, 64) real 8x8 digits as "codes"


def test_pca_inverse_is_exact_round_trip(pixels):
    proj = Projection("pca").fit(pixels)
    spots = np.random.default_rng(0).normal(size=(50, 2)) * proj.points_.std(0)
    codes = proj.inverse_transform(spots)  # (50, 64)
    assert codes.shape == (50, 64)
    np.testing.assert_allclose(proj.transform(codes), spots, atol=1e-4)  # map -> code -> map is the identity
    # code -> map -> code is the orthogonal projection onto the PCA plane: idempotent
    plane = proj.inverse_transform(proj.transform(pixels[:20]))
    np.testing.assert_allclose(proj.inverse_transform(proj.transform(plane)), plane, atol=1e-4)


def test_identity_when_d_is_2():
    z = np.random.default_rng(1).normal(size=(30, 2)).astype(np.float32)
    proj = Projection("direct").fit(z)
    np.testing.assert_array_equal(proj.points_, z)
    np.testing.assert_allclose(proj.inverse_transform(z[:5]), z[:5], atol=1e-6)
    np.testing.assert_allclose(LinearInverse.identity()(z[:5]), z[:5], atol=1e-6)


def test_neighbour_inverse_returns_stored_code_at_a_data_point(pixels):
    points = np.random.default_rng(2).normal(size=(len(pixels), 2))
    inv = NeighborInverse(points, pixels)
    np.testing.assert_allclose(inv(points[[0, 17, 999]]), pixels[[0, 17, 999]], atol=1e-6)


def test_neighbour_inverse_is_a_convex_combination(pixels):
    rng = np.random.default_rng(3)
    points = rng.normal(size=(len(pixels), 2))
    inv = NeighborInverse(points, pixels, k=8)
    spots = rng.normal(size=(40, 2))
    idx, w = inv.weights(spots)
    assert idx.shape == w.shape == (40, 8)
    assert (w >= 0).all() and np.allclose(w.sum(1), 1)
    z = inv(spots)
    np.testing.assert_allclose(z, np.einsum("nk,nkd->nd", w, pixels[idx]), atol=1e-5)
    # every coordinate lies between the smallest and largest of its neighbours' codes
    nb = pixels[idx]  # (40, 8, 64)
    assert (z >= nb.min(1) - 1e-6).all() and (z <= nb.max(1) + 1e-6).all()
    # closer neighbours weigh more
    dist = np.linalg.norm(points[idx] - spots[:, None], axis=2)
    assert all(np.all(np.diff(w[i][np.argsort(dist[i])]) <= 1e-12) for i in range(40))


def test_neighbour_inverse_midpoint_of_two_points_is_their_mean():
    codes = np.array([[0.0, 0.0, 0.0], [2.0, 4.0, -6.0]], dtype=np.float32)
    inv = NeighborInverse(np.array([[0.0, 0.0], [1.0, 0.0]]), codes, k=2)
    np.testing.assert_allclose(inv([[0.5, 0.0]]), [[1.0, 2.0, -3.0]], atol=1e-6)
    z = inv([[0.25, 0.0]])[0]  # nearer the first point: nearer its code, on the segment between
    t = z[0] / 2.0
    assert 0 < t < 0.5 and np.allclose(z, t * codes[1], atol=1e-6)


def test_neighbour_inverse_rejects_mismatched_inputs():
    with pytest.raises(ExplorerError):
        NeighborInverse(np.zeros((5, 2)), np.zeros((4, 3)))
    with pytest.raises(ExplorerError):
        NeighborInverse(np.zeros((5, 2)), np.zeros((5, 3)))([1.0, 2.0, 3.0])


def test_grid_points_rows_from_the_top():
    g = grid_points((0, 1), (0, 2), 3)
    assert g.shape == (9, 2)
    np.testing.assert_allclose(g[:3], [[0, 2], [0.5, 2], [1, 2]])  # first row: largest y
    np.testing.assert_allclose(g[-1], [1, 0])


def test_linear_interpolation():
    z = interpolate([0, 0], [2, 4], 5, "linear")
    np.testing.assert_allclose(z, [[0, 0], [0.5, 1], [1, 2], [1.5, 3], [2, 4]])


def test_spherical_interpolation_keeps_the_norm():
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])
    z = interpolate(a, b, 7, "spherical")
    np.testing.assert_allclose(z[[0, -1]], [a, b], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 3.0, atol=1e-5)  # on the great circle
    lin = interpolate(a, b, 7, "linear")
    assert np.linalg.norm(lin[3]) < 2.2  # the straight line sags towards the origin
    # equal angular steps
    cos = [z[i] @ z[i + 1] / 9 for i in range(6)]
    np.testing.assert_allclose(cos, cos[0], atol=1e-6)


def test_interpolation_rejects_unknown_kind():
    with pytest.raises(ExplorerError):
        interpolate([0, 1], [1, 0], 3, "cubic")
