"""Attribute vectors from two selections: the vector is exactly mean(B) - mean(A), and applying it to held-out
A images makes a classifier on codes read them as B (bounds measured on the shipped checkpoints)."""

import numpy as np
import pytest

from explorer.attribute import as_mask, selection_effect, selection_vector
from explorer.checkpoints import checkpoint_root, load_checkpoint
from explorer.codes import codes_for
from explorer.errors import ExplorerError


def shipped(dataset, name: str):
    path = checkpoint_root() / dataset.name / name  # the session's copy (conftest)
    model, _ = load_checkpoint(path, dataset.image_shape)
    return model, np.asarray(codes_for(path, model, dataset))


def test_the_vector_is_mean_b_minus_mean_a():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(50, 4)).astype(np.float32)
    a, b = [1, 5, 7], [2, 3, 40, 41]
    assert np.allclose(selection_vector(codes, a, b), codes[b].mean(0) - codes[a].mean(0), atol=1e-6)
    assert np.allclose(selection_vector(codes, a, a), 0)
    assert as_mask(5, [0, 3]).tolist() == [True, False, False, True, False]
    with pytest.raises(ExplorerError, match="at least one image"):
        selection_vector(codes, [], b)
    with pytest.raises(ExplorerError, match="0 .. 49"):
        selection_vector(codes, [50], b)


def test_a_three_to_eight_vector_makes_held_out_threes_read_as_eights(mnist5k):
    model, codes = shipped(mnist5k, "conv-ae-d16")
    threes, eights = np.flatnonzero(mnist5k.labels == 3), np.flatnonzero(mnist5k.labels == 8)
    r = selection_effect(model, mnist5k, codes, threes, eights, strength=1.0)
    assert r.n_measured == np.isin(threes, mnist5k.test_idx).sum() == 100  # every held-out 3
    assert r.base_read_as_b <= 0.1  # plain reconstructions of 3s still read as 3s (measured 0.04)
    assert r.read_as_b >= 0.75, r  # measured 0.85 at strength 1
    assert r.b_read_as_b >= 0.9  # the classifier's ceiling: held-out 8s read as 8s (measured 0.98)
    assert selection_effect(model, mnist5k, codes, threes, eights, strength=2.0).read_as_b >= 0.95  # measured 1.00
    assert not mnist5k.factors and not r.factor_shift


def test_a_move_right_selection_moves_x_and_little_else():
    from explorer.datasets import load_dataset

    sprites = load_dataset("sprites")
    model, codes = shipped(sprites, "conv-ae-d10")
    x = sprites.factors["x"]
    lo, hi = np.quantile(x, [0.25, 0.75])
    r = selection_effect(model, sprites, codes, np.flatnonzero(x <= lo), np.flatnonzero(x >= hi), strength=1.0)
    assert r.factor_gap["x"] == pytest.approx(x[x >= hi].mean() - x[x <= lo].mean())
    assert r.factor_r2["x"] > 0.8  # the codes hold x linearly (measured 0.89)
    assert 0.5 * r.factor_gap["x"] < r.factor_shift["x"] < 1.2 * r.factor_gap["x"], r  # measured 0.60 of 0.73
    assert abs(r.factor_shift["y"]) < 0.1 * r.factor_shift["x"]  # right, not up or down (measured -0.04)
    assert r.read_as_b >= 0.8  # measured 0.93


def test_groups_without_held_out_images_are_refused(mnist5k):
    model, codes = shipped(mnist5k, "pca-d16")
    train_threes = np.intersect1d(np.flatnonzero(mnist5k.labels == 3), mnist5k.train_idx)
    with pytest.raises(ExplorerError, match="no held-out images"):
        selection_effect(model, mnist5k, codes, train_threes, np.flatnonzero(mnist5k.labels == 8))
    with pytest.raises(ExplorerError, match="training-split images"):
        selection_effect(model, mnist5k, codes, mnist5k.test_idx[:5], np.flatnonzero(mnist5k.labels == 8))
