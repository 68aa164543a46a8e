"""Analogies: centroids from moments, group vectors, a - b + c, and the measured move-right vector."""

import numpy as np
import pytest
import torch

from explorer.datasets.sprites import load_sprites
from explorer.errors import ExplorerError
from explorer.experiments.analogies import (
    analogy,
    apply_vector,
    centroid,
    class_vector,
    factor_vector,
    move_right_shift,
)
from explorer.models import ModelConfig, build_model
from explorer.train import TrainConfig, fit


def test_centroid_of_a_single_bright_pixel():
    img = torch.zeros(2, 1, 8, 10)
    img[0, 0, 2, 7] = 1.0
    img[1, 0, 5, 1] = 0.5
    assert centroid(img).tolist() == [[7.0, 2.0], [1.0, 5.0]]  # (x = column, y = row)


def test_group_and_factor_vectors():
    codes = np.array([[0.0, 0], [0, 2], [4, 0], [4, 2]])
    assert class_vector(codes, np.array([0, 0, 1, 1]), 0, 1).tolist() == [4.0, 0.0]
    assert factor_vector(codes, np.array([0.0, 0.1, 0.9, 1.0]), 0.5).tolist() == [4.0, 0.0]
    with pytest.raises(ExplorerError, match="at least one image"):
        class_vector(codes, np.zeros(4, int), 0, 3)


@pytest.fixture(scope="module")
def sprites_model():
    """A small conv AE trained for a few epochs on 2,000 generated sprites."""
    data = load_sprites(2500, seed=1)
    torch.manual_seed(0)  # the initial weights too: the measured shift depends on them
    model = build_model(ModelConfig("conv-ae", data.image_shape, 10, channels=(16, 32, 64)))
    fit(model, data.x_train, data.x_test, TrainConfig(epochs=4, batch_size=32, lr=2e-3))
    return model, data


def test_move_right_vector_moves_the_centroid_right(sprites_model):
    model, data = sprites_model
    result = move_right_shift(model, data, strength=1.0)
    assert result.group_gap_px > 10  # real sprites: top quarter of x sits well right of the bottom quarter
    assert result.shift_px > 3.0, result  # pixels, decoded with the vector minus decoded without
    assert result.moved_right > 0.8, result
    assert abs(result.shift_y_px) < result.shift_px / 2, result  # it moves right, not up or down
    stronger = move_right_shift(model, data, strength=2.0)
    assert stronger.shift_px > result.shift_px
    left = move_right_shift(model, data, strength=-1.0)
    assert left.shift_px < -3.0


@pytest.fixture(scope="module")
def untrained():
    """Code arithmetic identities hold for any weights: no training needed."""
    data = load_sprites(200, seed=2)
    return build_model(ModelConfig("conv-ae", data.image_shape, 10, channels=(8, 16))).eval(), data


def test_analogy_and_zero_strength_are_plain_decodes(untrained):
    model, data = untrained
    a, b = data.x_test[:3], data.x_test[3:6]
    decoded = model.decode(model.encode(a)).detach()
    assert torch.allclose(analogy(model, a, b, b), decoded, atol=1e-5)  # a - b + b = a
    assert torch.allclose(apply_vector(model, a, np.ones(10), 0.0), decoded, atol=1e-5)


def test_move_right_needs_the_factor(untrained, digits):
    with pytest.raises(ExplorerError, match="no known factor"):
        move_right_shift(untrained[0], digits)
