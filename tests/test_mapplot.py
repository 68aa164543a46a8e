"""Map figures: WebGL traces, row ids in customdata, the invisible click grid, highlights, tiling."""

import numpy as np
import plotly.graph_objects as go
import torch

from explorer.mapplot import GRID_N, map_figure, tile_images, upscale
from explorer.selection import GRID_ID


def data_ids(fig):
    point_traces = [t for t in fig.data if t.name not in ("click grid", "selected", "clicked")]
    return np.concatenate([np.asarray(t.customdata) for t in point_traces])


def test_map_by_label_has_grid_under_one_trace_per_class(digits):
    pts = np.random.default_rng(0).normal(size=(len(digits), 2))
    fig = map_figure(pts, labels=digits.labels, class_names=digits.class_names)
    grid = fig.data[0]  # first trace = drawn underneath
    assert grid.name == "click grid" and isinstance(grid, go.Scattergl)
    assert len(grid.x) == GRID_N * GRID_N and grid.marker.opacity == 0 and grid.hoverinfo == "none"
    assert set(np.asarray(grid.customdata)) == {GRID_ID}
    # the grid covers every data point
    assert grid.x.min() <= pts[:, 0].min() and grid.x.max() >= pts[:, 0].max()
    assert grid.y.min() <= pts[:, 1].min() and grid.y.max() >= pts[:, 1].max()
    classes = [t for t in fig.data[1:]]
    assert len(classes) == 10 and all(isinstance(t, go.Scattergl) for t in classes)
    assert sorted(data_ids(fig)) == list(range(len(digits)))  # every row exactly once
    t = classes[3]
    assert set(t.text) == {"3"} and "index %{customdata}" in t.hovertemplate and "label %{text}" in t.hovertemplate
    rows = np.asarray(t.customdata)
    np.testing.assert_allclose(np.column_stack([t.x, t.y]), pts[rows], atol=1e-6)  # ids match positions


def test_map_by_factor_is_one_trace_with_colour_bar(digits):
    pts = np.random.default_rng(1).normal(size=(len(digits), 2))
    factor = np.linspace(0, 1, len(digits))
    fig = map_figure(pts, labels=digits.labels, class_names=digits.class_names, color=factor, color_name="x")
    data = [t for t in fig.data if t.name == "images"]
    assert len(data) == 1 and data[0].marker.showscale
    np.testing.assert_allclose(data[0].marker.color, factor)
    assert "x %{marker.color" in data[0].hovertemplate


def test_highlight_and_clicked_traces_on_top():
    pts = np.arange(40, dtype=float).reshape(20, 2)
    fig = map_figure(pts, highlight=[2, 5], clicked=(1.0, 2.0), grid=False)
    names = [t.name for t in fig.data]
    assert names == ["images", "selected", "clicked"]
    sel = fig.data[1]
    assert list(sel.customdata) == [2, 5] and list(sel.x) == [4.0, 10.0]
    assert list(fig.data[2].customdata) == [GRID_ID]


def test_70k_points_stay_webgl():
    pts = np.random.default_rng(2).normal(size=(70_000, 2)).astype(np.float32)
    labels = np.random.default_rng(3).integers(0, 10, 70_000)
    fig = map_figure(pts, labels=labels, class_names=[str(i) for i in range(10)])
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    assert sum(len(t.x) for t in fig.data[1:]) == 70_000


def test_tile_images():
    imgs = torch.rand(7, 1, 8, 8)
    tiled = tile_images(imgs, 3)
    assert tiled.shape == (24, 24)
    np.testing.assert_allclose(tiled[8:16, 0:8], imgs[3, 0].numpy())
    assert (tiled[16:, 8:] == 1).all()  # empty cells stay white
    rgb = tile_images(torch.rand(4, 3, 5, 5), 2)
    assert rgb.shape == (10, 10, 3)
    assert upscale(tiled, 2).shape == (48, 48)


def test_values_on_a_diverging_scale_with_images_not_measured_drawn_grey_underneath():
    pts = np.random.default_rng(4).normal(size=(50, 2))
    values = np.where(np.arange(50) % 2 == 0, np.linspace(-1, 1, 50), np.nan)
    fig = map_figure(pts, color=values, color_name="AE − PCA error", color_scale="diverging", color_range=(-0.5, 0.5),
                     grid=False)
    assert [t.name for t in fig.data] == ["no value", "images"]  # grey first, so drawn under the measured
    grey, measured = fig.data
    assert sorted(grey.customdata) == list(range(1, 50, 2)) and "not measured" in grey.hovertemplate
    assert list(measured.customdata) == list(range(0, 50, 2))
    np.testing.assert_allclose(measured.marker.color, values[::2])
    assert (measured.marker.cmin, measured.marker.cmax) == (-0.5, 0.5)  # centred at 0, as asked
    scale = measured.marker.colorscale
    assert scale[0][1] == "rgb(49,54,149)" and scale[-1][1] == "rgb(165,0,38)"
    np.testing.assert_allclose(np.column_stack([measured.x, measured.y]), pts[::2], atol=1e-6)
