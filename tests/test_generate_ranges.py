"""map_extent and slider_ranges: the Generate page's grid over the map and its per-unit sliders."""

import numpy as np
import pytest

from explorer.errors import ExplorerError
from explorer.extent import map_extent, slider_ranges


def test_map_extent_covers_the_bulk_and_leaves_out_stragglers():
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.uniform([0, -2], [10, 2], size=(1000, 2)), [[1e6, -1e6]]])
    (x0, x1), (y0, y1) = map_extent(points)
    assert 0 <= x0 < 0.5 and 9.5 < x1 <= 10 and -2 <= y0 < -1.8 and 1.8 < y1 <= 2
    inside = (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
    assert 0.95 < inside.mean() < 0.99


def test_slider_ranges_contain_every_code_with_a_margin():
    codes = np.array([[0.0, 5.0, -1.0], [2.0, 5.0, 3.0], [1.0, 5.0, 0.0]])
    ranges = slider_ranges(codes)
    assert ranges.shape == (3, 2)
    np.testing.assert_allclose(ranges[0], [-0.2, 2.2])
    np.testing.assert_allclose(ranges[1], [4.9, 5.1])  # a constant unit still gets a movable slider
    np.testing.assert_allclose(ranges[2], [-1.4, 3.4])
    assert np.all(ranges[:, :1] < codes.min(0)[:, None]) and np.all(ranges[:, 1:] > codes.max(0)[:, None])


def test_bad_shapes_are_one_line_errors():
    with pytest.raises(ExplorerError, match=r"\(N, 2\)"):
        map_extent(np.zeros((4, 3)))
    with pytest.raises(ExplorerError, match=r"\(N, d\)"):
        slider_ranges(np.zeros(4))
