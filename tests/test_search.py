"""explorer.search: the Similar page's spaces, their cache keys and query vectors, and which index answers."""

import numpy as np
import pytest
import torch

from explorer.errors import ExplorerError
from explorer.evaluate import encode_all
from explorer.models import ModelConfig, build_model
from explorer.neighbors import APPROX_THRESHOLD
from explorer.search import PIXEL_SEARCH_MAX, Space, builds_at_once, pixels_searchable, wants_approximate


@pytest.fixture(scope="module")
def images():
    torch.manual_seed(0)
    return torch.rand(10, 1, 4, 4)


def test_query_vectors_are_the_row_the_pixels_or_the_code(images, tmp_path):
    model = build_model(ModelConfig("pca", (1, 4, 4), 3))
    model.fit(images)
    codes = encode_all(model, images).numpy()
    code_space, pixels = Space("codes", codes, model, tmp_path), Space("pixels", images.flatten(1).numpy())
    np.testing.assert_array_equal(code_space.query_vector(4, None), codes[4])
    new = torch.rand(1, 4, 4)
    assert pixels.query_vector(None, new).shape == (16,)
    np.testing.assert_allclose(pixels.query_vector(None, new), new.flatten().numpy())
    np.testing.assert_allclose(code_space.query_vector(None, images[2]), codes[2], atol=1e-5)  # encoded as the set


def test_cache_keys_follow_the_model_only_for_code_spaces(images, tmp_path):
    codes = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    model = build_model(ModelConfig("pca", (1, 4, 4), 3))
    a, b = Space("a", codes, model, tmp_path / "a"), Space("b", codes + 1, model, tmp_path / "a")
    assert a.cache_key("mnist5k", (None, "gray"), "code space") != b.cache_key("mnist5k", (None, "gray"), "code space")
    pixels = Space("pixels", images.flatten(1).numpy())
    assert pixels.cache_key("mnist5k", (None, "gray"), "pixels") == ("mnist5k", (None, "gray"), "pixels")


def test_which_index_answers():
    assert not wants_approximate(APPROX_THRESHOLD, "auto") and wants_approximate(APPROX_THRESHOLD + 1, "auto")
    assert wants_approximate(10, "approximate") and not wants_approximate(10**7, "exact")
    assert builds_at_once(APPROX_THRESHOLD) and not builds_at_once(APPROX_THRESHOLD + 1)
    with pytest.raises(ExplorerError, match="unknown search method"):
        wants_approximate(10, "fast")


def test_pixels_are_searched_up_to_the_memory_bound():
    assert pixels_searchable(5000, (1, 28, 28))
    assert not pixels_searchable(PIXEL_SEARCH_MAX // 784 + 1, (1, 28, 28))
