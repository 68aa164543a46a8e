"""AE vs PCA per image: the error difference is the two models' own errors apart, neighbour agreement is 1 for the same
space and about k / (n - 1) for unrelated ones, and a large set is measured on a bounded sample."""

import tracemalloc

import numpy as np
import pytest
import torch

from explorer import ae_vs_pca
from explorer.ae_vs_pca import agreement, nearest, per_image, sample_size, symmetric_range
from explorer.checkpoints import Checkpoint, checkpoint_root, load_checkpoint
from explorer.codes import codes_for
from explorer.datasets.images import Images
from explorer.errors import ExplorerError
from explorer.models import ModelConfig, build_model


@pytest.fixture(scope="module")
def shipped(mnist5k):
    """conv-ae d=16 and its recorded PCA baseline, with their stored codes of the first 600 images."""
    ae_dir = checkpoint_root() / "mnist5k" / "conv-ae-d16"
    pca_dir = Checkpoint(ae_dir).pca_path
    assert pca_dir is not None and pca_dir.name == "pca-d16"
    ae, pca = (load_checkpoint(p, mnist5k.image_shape)[0] for p in (ae_dir, pca_dir))
    rows = np.arange(600)
    codes, pca_codes = (np.asarray(codes_for(p, m, mnist5k))[rows] for p, m in ((ae_dir, ae), (pca_dir, pca)))
    return ae, pca, mnist5k.images.take(rows), codes, pca_codes


def direct_errors(model, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return ((model.decode(model.encode(x)) - x) ** 2).sum(dim=(1, 2, 3)).double().numpy()


def test_error_difference_is_the_two_models_errors_apart(shipped):
    ae, pca, images, codes, pca_codes = shipped
    m = per_image(ae, pca, images, codes, pca_codes)
    assert not m.sampled and np.array_equal(m.rows, np.arange(600))
    x = images[:]
    np.testing.assert_allclose(m.model_error, direct_errors(ae, x), rtol=1e-4)
    np.testing.assert_allclose(m.pca_error, direct_errors(pca, x), rtol=1e-4)
    np.testing.assert_allclose(m.difference, direct_errors(ae, x) - direct_errors(pca, x), rtol=1e-4, atol=1e-3)
    assert (m.model_error >= 0).all() and (m.pca_error >= 0).all()
    for shared in (m.agree_pca, m.agree_pixels):  # shares of k = 10: multiples of 0.1 in [0, 1]
        assert shared.shape == (600,) and shared.min() >= 0 and shared.max() <= 1
        np.testing.assert_allclose(shared * 10, np.round(shared * 10), atol=1e-9)
    assert m.agree_pca.mean() > 10 * m.chance  # a trained autoencoder is far from unrelated to PCA
    most, least = m.extremes(5)
    d = m.difference
    assert list(d[most]) == sorted(d)[:5] and list(d[least]) == sorted(d, reverse=True)[:5]


def test_pca_against_itself_differs_by_nothing_and_shares_every_neighbour(shipped):
    _, pca, images, _, pca_codes = shipped
    m = per_image(pca, pca, images, pca_codes, pca_codes)
    assert np.array_equal(m.difference, np.zeros(600))
    assert np.array_equal(m.agree_pca, np.ones(600))


def test_agreement_is_one_for_the_same_space_and_chance_for_unrelated_ones():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 5))
    rotated = 3.0 * x @ np.linalg.qr(rng.normal(size=(5, 5)))[0] + 7.0  # distances only scaled: same neighbours
    assert np.array_equal(agreement(nearest(x, 10), nearest(rotated, 10)), np.ones(2000))
    unrelated = agreement(nearest(x, 10), nearest(rng.normal(size=(2000, 5)), 10))
    chance = 10 / 1999
    assert abs(unrelated.mean() - chance) < 0.5 * chance  # about k / (n - 1) = 0.005
    ids = nearest(x, 10)
    assert ids.shape == (2000, 10) and not (ids == np.arange(2000)[:, None]).any()  # never itself


def test_agreement_counts_shared_ids_whatever_their_order():
    a = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    b = np.array([[4, 3, 9, 9], [8, 7, 6, 5]])
    np.testing.assert_allclose(agreement(a, b), [0.5, 1.0])


def test_a_large_set_is_measured_on_a_bounded_sample():
    n, cap = 300_000, 1500
    rng = np.random.default_rng(1)
    storage = torch.from_numpy(rng.integers(0, 256, size=(n, 1, 4, 4), dtype=np.uint8))
    images = Images(storage)
    model = build_model(ModelConfig("pca", (1, 4, 4), 3)).fit(images[:5000])
    codes = rng.normal(size=(n, 3)).astype(np.float32)
    tracemalloc.start()
    m = per_image(model, model, images, codes, codes, cap=cap)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert m.sampled and m.n_total == n
    assert m.rows.shape == m.model_error.shape == m.agree_pca.shape == m.agree_pixels.shape == (cap,)
    assert np.array_equal(m.rows, np.unique(m.rows)) and 0 <= m.rows.min() and m.rows.max() < n
    colour = m.on_all(m.agree_pixels)
    assert colour.shape == (n,) and np.isfinite(colour).sum() == cap and np.array_equal(colour[m.rows], m.agree_pixels)
    assert peak < 30e6  # numpy's share: one (batch, sample) distance block at a time, nothing n x n or n x sample


def test_sample_size_caps_images_and_pixels():
    assert sample_size(5000, 784) == 5000  # mnist5k: every image
    assert sample_size(1_000_000, 784) == ae_vs_pca.SAMPLE_MAX
    assert sample_size(1_000_000, 3 * 64 * 64) == ae_vs_pca.PIXEL_VALUES // (3 * 64 * 64)  # 3,255 colour images
    assert sample_size(1_000_000, 3 * 64 * 64) * 3 * 64 * 64 <= ae_vs_pca.PIXEL_VALUES


def test_too_few_images_is_one_clear_error():
    x = Images(torch.rand(5, 1, 4, 4))
    model = build_model(ModelConfig("pca", (1, 4, 4), 2)).fit(x[:])
    with pytest.raises(ExplorerError, match="need more than k = 10 images"):
        per_image(model, model, x, np.zeros((5, 2), np.float32), np.zeros((5, 2), np.float32))


def test_symmetric_range_is_centred_and_robust():
    values = np.concatenate([np.linspace(-1, 1, 999), [1000.0]])
    lo, hi = symmetric_range(values)
    assert lo == -hi and 0.9 < hi < 1.5  # the one outlier does not set the scale
    assert symmetric_range(np.zeros(3)) == (-1.0, 1.0)
