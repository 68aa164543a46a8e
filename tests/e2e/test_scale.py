"""The explorer at 200,000 points in a real Chromium: density maps, a box that selects every point inside it,
a click on empty space that decodes, and a neighbour query from the map.

The data are 200,000 warped copies of mnist5k's digits (labelled); `explorer train` makes a conv-ae checkpoint
with PCA beside it, each with its codes, PCA map and neighbour index stored, as a user's run would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from explorer.datasets.generated import write_warped_digits
from explorer.mapplot import DENSITY_GRID_N
from tests.e2e.conftest import ROOT, open_page, serve, wait_for_app
from tests.e2e.test_latent_map import click

N_IMAGES = 200_000
GEOMETRY = """(i) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[i];
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return {left: box.left + xa._offset, top: box.top + ya._offset, width: xa._length, height: ya._length,
          xr: xa.range, yr: ya.range, images: (gd._fullLayout.images || []).length,
          sent: gd._fullData.reduce((n, t) => n + (t.x ? t.x.length : 0), 0)};
}"""


@pytest.fixture(scope="module")
def scale_checkpoint(tmp_path_factory):
    work = tmp_path_factory.mktemp("scale")
    data = write_warped_digits(work / f"digits-{N_IMAGES}.npz", N_IMAGES)
    ckpt = work / "checkpoints" / "digits-200k" / "conv-ae-d16"
    subprocess.run([sys.executable, "-m", "explorer", "train", "--dataset", f"folder:{data}", "--model", "conv-ae",
                    "--dim", "16", "--steps", "60", "--out", str(ckpt)], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "OMP_NUM_THREADS": "2"})  # the only busy process now: both cores (126 -> 74 s)
    return ckpt


@pytest.fixture(scope="module")
def scale_url(scale_checkpoint):
    with serve(scale_checkpoint.parent.parent, "streamlit-scale.log") as url:
        yield url


class Axes:
    """The i-th plotly chart's plot area on the screen and its axis ranges."""

    def __init__(self, page, i: int = 0):
        page.locator(".js-plotly-plot").nth(i).scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        self.g = page.evaluate(GEOMETRY, i)

    def to_px(self, x, y):
        (x0, x1), (y0, y1), g = self.g["xr"], self.g["yr"], self.g
        return g["left"] + (x - x0) / (x1 - x0) * g["width"], g["top"] + (y1 - y) / (y1 - y0) * g["height"]

    def to_data(self, px, py):
        (x0, x1), (y0, y1), g = self.g["xr"], self.g["yr"], self.g
        return x0 + (px - g["left"]) / g["width"] * (x1 - x0), y1 - (py - g["top"]) / g["height"] * (y1 - y0)


def stored_points(ckpt, method: str = "pca") -> np.ndarray:
    with np.load(ckpt / "projections" / f"{method}.npz", allow_pickle=False) as f:
        return f["points"]


def no_errors(page):
    assert "Traceback" not in page.content() and page.locator('[data-testid="stException"]').count() == 0


def test_latent_map_draws_density_and_a_box_selects_every_point_inside(page, scale_url, scale_checkpoint):
    open_page(page, scale_url, "latent_map")
    page.locator(".js-plotly-plot").nth(1).wait_for()
    for i in range(2):  # the model's map and PCA's: one picture each, not 200,000 points
        axes = Axes(page, i)
        assert axes.g["images"] == 1 and axes.g["sent"] < 20_000
    no_errors(page)
    axes = Axes(page, 0)
    points = stored_points(scale_checkpoint)
    lo, hi = np.percentile(points, [30, 60], axis=0)  # a box over part of the bulk of the map
    (ax, ay), (bx, by) = axes.to_px(lo[0], hi[1]), axes.to_px(hi[0], lo[1])
    chart = page.locator(".js-plotly-plot").first
    chart.hover()
    chart.locator('[data-title="Box Select"]').click()  # the modebar's box tool (a plain drag would zoom)
    page.mouse.move(ax, ay)
    page.mouse.down()
    page.mouse.move((ax + bx) / 2, (ay + by) / 2, steps=5)
    page.mouse.move(bx, by, steps=5)
    page.mouse.up()
    page.wait_for_timeout(800)
    wait_for_app(page)
    heading = page.get_by_text(re.compile(r"^[\d,]+ selected images")).first
    heading.wait_for(timeout=60_000)
    n_selected = int(re.match(r"([\d,]+)", heading.inner_text()).group(1).replace(",", ""))
    (x0, y1), (x1, y0) = axes.to_data(ax, ay), axes.to_data(bx, by)
    inside = ((points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)).sum()
    assert inside > 5_000 and abs(n_selected - inside) <= 0.02 * inside  # all of them, not a sample
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 100",
                           timeout=30_000)  # their images (the first 120)
    page.get_by_role("button", name="Zoom into the selection").first.click()
    page.wait_for_timeout(1500)  # the click reruns the page, which redraws both charts
    wait_for_app(page)
    zoomed = Axes(page, 0)
    assert zoomed.g["xr"][1] - zoomed.g["xr"][0] < 0.6 * (axes.g["xr"][1] - axes.g["xr"][0])
    g = zoomed.g  # the zoom started the chart afresh, out of the box tool: a click picks one image again
    page.mouse.move(g["left"] + 10, g["top"] + 10)
    click(page, g["left"] + g["width"] / 2, g["top"] + g["height"] / 2)
    page.get_by_text(re.compile(r"^Image \d+ \(label \d\)$")).wait_for(timeout=30_000)
    no_errors(page)


def test_generate_decodes_a_click_on_empty_space(page, scale_url, scale_checkpoint):
    open_page(page, scale_url, "generate")
    page.locator(".js-plotly-plot").first.wait_for()
    axes = Axes(page, 0)
    assert axes.g["images"] == 1
    points = stored_points(scale_checkpoint)
    g = axes.g  # the emptiest spot inside the plot area, from the points themselves
    gx, gy = np.meshgrid(np.linspace(g["left"] + 40, g["left"] + g["width"] - 40, 40),
                         np.linspace(g["top"] + 60, g["top"] + g["height"] - 40, 40))
    spots = np.column_stack([gx.ravel(), gy.ravel()])
    from scipy.spatial import cKDTree

    px_points = np.column_stack(axes.to_px(points[:, 0], points[:, 1]))
    dist = cKDTree(px_points).query(spots)[0]
    assert dist.max() > 15, "no empty space on the map"
    px, py = spots[np.argmax(dist)]
    click(page, px, py)
    caption = page.get_by_text(re.compile(r"decoded at \((-?[\d.]+), (-?[\d.]+)\)"))
    caption.wait_for(timeout=30_000)
    x, y = map(float, re.search(r"\((-?[\d.]+), (-?[\d.]+)\)", caption.inner_text()).groups())
    want_x, want_y = axes.to_data(px, py)
    (x0, x1), (y0, y1) = g["xr"], g["yr"]
    cell = 1 / (DENSITY_GRID_N - 1)  # the invisible click grid answers with its nearest point
    assert abs(x - want_x) <= (x1 - x0) * cell + 0.01 and abs(y - want_y) <= (y1 - y0) * cell + 0.01
    no_errors(page)


def test_similar_answers_a_click_with_the_stored_index(page, scale_url, scale_checkpoint):
    open_page(page, scale_url, "similar")
    page.locator(".js-plotly-plot").first.wait_for()
    axes = Axes(page, 0)
    points = stored_points(scale_checkpoint)
    spot = np.median(points, axis=0)
    click(page, *map(float, axes.to_px(*spot)))
    query = page.get_by_text(re.compile(r"^Query: image \d+")).first
    query.wait_for(timeout=30_000)
    row = int(re.search(r"image (\d+)", query.inner_text()).group(1))
    nearest = int(np.argmin(np.hypot(*(points - spot).T)))
    assert np.hypot(*(points[row] - points[nearest])) <= 0.02 * np.ptp(points[:, 0])  # the image at the spot
    page.get_by_text("Approximate index (IVF").first.wait_for(timeout=30_000)  # read from disk, not built
    assert page.get_by_text("Raw pixels are not searched").count() == 1  # 200,000 x 784 values: too many to hold
    assert page.locator('[data-testid="stImageCaption"]').count() >= 21  # query + 10 code-space + 10 PCA-space
    no_errors(page)
