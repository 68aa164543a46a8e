import numpy as np
import pytest
import torch

from explorer import metrics


def test_recon_sse_is_per_image_sum():
    x = torch.zeros(2, 1, 4, 4)
    x_hat = torch.full_like(x, 0.5)
    assert metrics.recon_sse(x_hat, x) == pytest.approx(16 * 0.25)
    assert metrics.recon_mse(x_hat, x) == pytest.approx(0.25)


def test_knn_and_precision_on_separable_clusters():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 50)
    z = rng.normal(size=(100, 2)) + 10 * y[:, None]
    assert metrics.knn_accuracy(z[::2], y[::2], z[1::2], y[1::2]) == 1.0
    assert metrics.leave_one_out_precision(z, y, k=5) == 1.0
    assert metrics.precision_at_k(np.array([[0, 0, 1, 1]]), np.array([0])) == 0.5


def test_leave_one_out_precision_never_counts_a_point_as_its_own_neighbour():
    # three identical points per place: the neighbour search may list a point after its twins
    z = np.array([[0, 0], [0, 0], [0, 0], [5, 5], [5, 5], [5, 5]], dtype=float)
    y = np.array([0, 1, 1, 0, 1, 1])
    # point 0 sees two 1s (0/2), points 1 and 2 see a 1 and a 0 (1/2 each): 1/3 in all
    assert metrics.leave_one_out_precision(z, y, k=2) == pytest.approx(1 / 3)


def test_trustworthiness_is_one_for_an_isometry_and_lower_for_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    assert metrics.trustworthiness(x, x @ np.linalg.qr(rng.normal(size=(5, 5)))[0]) == pytest.approx(1.0)
    assert metrics.trustworthiness(x, rng.normal(size=(200, 2))) < 0.7


def test_active_fraction_and_dead_units_are_kept_apart():
    # two images, three units: unit 0 never fires (dead); image 0 uses 2 of 3 units, image 1 uses 1 of 3
    z = np.array([[0.0, 1.0, 0.5], [0.0, 0.0, 2.0]])
    assert metrics.active_fraction(z) == 0.5 and metrics.dead_units(z) == 1
    # a code that is "sparse" only through dead units: every live unit fires on every image
    z = np.array([[0.0, 0.0, 1.0, 1.0]] * 5)
    assert metrics.active_fraction(z) == 0.5 and metrics.dead_units(z) == 2


def test_tiny_held_out_sets_still_measure():
    # scikit-learn needs k < n / 2 for trustworthiness; five held-out images must not crash an evaluation
    rng = np.random.default_rng(0)
    x = rng.random((5, 16))
    assert 0 <= metrics.trustworthiness(x, x[:, :2]) <= 1
    assert np.isnan(metrics.trustworthiness(x[:2], x[:2, :2]))
    assert metrics.knn_accuracy(x[:3], [0, 1, 1], x, [0, 1, 1, 0, 1]) >= 0


def test_the_verdict_on_pca_is_one_plain_line():
    from explorer.pipeline import beats_pca, pca_verdict

    assert beats_pca({"recon_sse": 1.0, "pca_recon_sse": 2.0})
    assert pca_verdict({"recon_sse": 1.0, "pca_recon_sse": 2.0}, "conv-ae") is None
    line = pca_verdict({"recon_sse": 3.0, "pca_recon_sse": 2.0}, "conv-ae")
    assert "1.50x PCA's" in line and "\n" not in line and "steps" in line
    assert pca_verdict({"recon_sse": 2.0, "pca_recon_sse": 2.0}, "pca") is None  # PCA is its own baseline
