"""Density pictures of many points: every point lands in its pixel, colours mix by count, opacity equalised."""

import numpy as np

from explorer import density
from explorer.mapplot import DENSITY_ABOVE, GRID_N, in_view, view_figure
from explorer.selection import GRID_ID

PALETTE = ["#ff0000", "#0000ff"]


def test_points_land_in_their_pixels_top_row_first():
    pts = np.array([[0.05, 0.95], [0.95, 0.05], [0.95, 0.05], [2.0, 2.0]])  # top left, bottom right twice, outside
    img = density.render(pts, (0, 1), (0, 1), 10, 10, classes=np.array([0, 1, 1, 0]), palette=PALETTE)
    assert img.shape == (10, 10, 4) and img.dtype == np.uint8
    filled = np.argwhere(img[..., 3] > 0)
    assert filled.tolist() == [[0, 0], [9, 9]]  # the point outside the view is dropped
    assert tuple(img[0, 0, :3]) == (255, 0, 0) and tuple(img[9, 9, :3]) == (0, 0, 255)
    assert img[9, 9, 3] > img[0, 0, 3]  # two points are more opaque than one


def test_colours_mix_by_count_and_factor_means():
    pts = np.array([[0.5, 0.5]] * 4)
    mixed = density.render(pts, (0, 1), (0, 1), 1, 1, classes=np.array([0, 0, 0, 1]), palette=PALETTE)
    assert tuple(mixed[0, 0, :3]) == (191, 0, 64)  # 3 red : 1 blue
    lo = density.render(pts, (0, 1), (0, 1), 1, 1, values=np.zeros(4), value_range=(0, 1))
    hi = density.render(pts, (0, 1), (0, 1), 1, 1, values=np.ones(4), value_range=(0, 1))
    assert tuple(lo[0, 0, :3]) == tuple(density.VIRIDIS[0]) and tuple(hi[0, 0, :3]) == tuple(density.VIRIDIS[-1])


def test_equalised_opacity_keeps_sparse_pixels_visible():
    counts = np.array([0, 1, 1, 10, 1000])
    eq = density.equalised(counts)
    assert eq[0] == 0 and 0 < eq[1] == eq[2] < eq[3] < eq[4] == 1
    assert eq[3] == 0.75  # by rank, not by size: 1000 does not wash out 10


def test_over_composites_and_png_round_trips():
    top = np.zeros((2, 2, 4), np.uint8)
    top[0, 0] = (255, 0, 0, 255)
    bottom = np.full((2, 2, 4), (0, 0, 255, 128), np.uint8)
    out = density.over(top, bottom)
    assert tuple(out[0, 0]) == (255, 0, 0, 255) and tuple(out[1, 1]) == (0, 0, 255, 128)
    uri = density.png_data_uri(out)
    import base64
    import io

    from PIL import Image

    def decoded(uri):
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGBA"))

    np.testing.assert_array_equal(decoded(uri), out)  # few colours: exact
    pts, labels = clustered(200_000)
    picture = density.render(pts, (-1, 6), (-1, 3), 320, 240, classes=labels, palette=["#1f77b4", "#ff7f0e", "#2ca02c"])
    uri = density.png_data_uri(picture)  # thousands of colours, reduced to a palette of 256
    assert np.abs(decoded(uri).astype(int) - picture).mean() < 3 and len(uri) < picture.nbytes


def clustered(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    return (rng.normal(size=(n, 2)) * 0.3 + np.column_stack([labels % 5, labels // 5])).astype(np.float32), labels


def test_a_million_points_become_one_image_and_a_click_grid():
    pts, labels = clustered(1_000_000)
    fig = view_figure(pts, labels=labels, class_names=[str(i) for i in range(10)], grid=False)
    assert len(fig.layout.images) == 1 and fig.layout.images[0].source.startswith("data:image/png;base64,")
    assert fig.layout.xaxis.fixedrange and fig.layout.yaxis.fixedrange  # plotly's zoom would only stretch the picture
    grid = fig.data[0]  # the only thing to click on a density map, even when the caller asked for no grid
    assert grid.name == "click grid" and set(np.asarray(grid.customdata)) == {GRID_ID} and len(grid.x) > GRID_N ** 2
    assert sum(len(t.x) for t in fig.data if t.x is not None) < 20_000  # no point per image in the JSON
    assert len(fig.to_json()) < 2_000_000
    legend = [t.name for t in fig.data if t.showlegend is not False and t.name != "click grid"]
    assert legend == [str(i) for i in range(10)]


def test_a_zoomed_view_with_few_points_draws_them_as_markers_with_their_row_ids():
    pts, labels = clustered(200_000)
    ranges = ((-0.2, 0.2), (-0.2, 0.2))  # the middle of class 0's cluster
    inside = in_view(pts, ranges)
    assert 0 < len(inside) <= DENSITY_ABOVE
    fig = view_figure(pts, ranges, labels=labels, highlight=inside[:3])
    assert not fig.layout.images and list(fig.layout.xaxis.range) == [-0.2, 0.2]
    ids = np.concatenate([np.asarray(t.customdata) for t in fig.data if t.name not in ("click grid", "selected")])
    assert sorted(ids) == sorted(inside)  # every point in view, by its row id, and no other
    ringed = next(t for t in fig.data if t.name == "selected")
    assert sorted(ringed.customdata) == sorted(inside[:3])


def test_a_selection_is_drawn_over_the_faded_rest():
    pts, labels = clustered(100_000)
    picked = np.flatnonzero(labels == 3)
    fig = view_figure(pts, labels=labels, highlight=picked)
    assert not [t for t in fig.data if t.name == "selected"]  # a large selection is shown by the picture alone
    plain = view_figure(pts, labels=labels)
    assert fig.layout.images[0].source != plain.layout.images[0].source
    few = view_figure(pts, labels=labels, highlight=picked[:5])
    ringed = next(t for t in few.data if t.name == "selected")
    assert sorted(ringed.customdata) == sorted(picked[:5])  # a few are ringed too, so one image stays visible


def test_a_diverging_scale_centres_on_its_middle_and_values_missing_are_faint_grey():
    pts = np.array([[0.75, 0.75]] * 3 + [[0.25, 0.25]] * 3)  # top right, bottom left
    values = np.array([-1.0, 1.0, np.nan, np.nan, np.nan, np.nan])  # top right: mean 0 of two known values
    img = density.render(pts, (0, 1), (0, 1), 2, 2, values=values, value_range=(-1, 1), scale="diverging")
    middle = density.DIVERGING[len(density.DIVERGING) // 2]
    assert tuple(img[0, 1, :3]) == tuple(middle)  # top right: NaN left out of the mean, so 0: the middle colour
    assert tuple(img[1, 0, :3]) == density.NO_VALUE  # bottom left: only NaN
    assert 0 < img[1, 0, 3] < img[0, 1, 3]  # and fainter, though as many points
    assert img[0, 0, 3] == img[1, 1, 3] == 0  # empty
    ends = density.render(np.array([[0.75, 0.75], [0.25, 0.25]]), (0, 1), (0, 1), 2, 2, values=np.array([-5.0, 5.0]),
                          value_range=(-1, 1), scale="diverging")
    assert tuple(ends[0, 1, :3]) == tuple(density.DIVERGING[0])
    assert tuple(ends[1, 0, :3]) == tuple(density.DIVERGING[-1])


def test_a_density_map_coloured_on_a_diverging_scale_carries_its_range_in_the_colour_bar():
    pts, _ = clustered(60_000)
    values = np.full(len(pts), np.nan)
    values[::10] = np.linspace(-3, 3, len(values[::10]))
    fig = view_figure(pts, color=values, color_name="AE − PCA error", color_scale="diverging", color_range=(-2, 2))
    assert len(fig.layout.images) == 1
    bar = next(t for t in fig.data if t.marker is not None and t.marker.showscale)
    assert list(bar.marker.color) == [-2, 2] and bar.marker.colorscale[0][1] == "rgb(49,54,149)"
