"""Generate in a real Chromium: a click on EMPTY space decodes that spot; a click on a point decodes the point."""

import re

from tests.e2e.conftest import open_page
from tests.e2e.test_latent_map import PlotGeometry, click

CAPTION = re.compile(r"decoded at \((-?[\d.]+), (-?[\d.]+)\)")


def decoded_at(page) -> tuple[float, float]:
    page.get_by_text(CAPTION).wait_for(timeout=30_000)
    m = CAPTION.search(page.get_by_text(CAPTION).inner_text())
    return float(m.group(1)), float(m.group(2))


def test_click_on_empty_space_shows_a_decoded_image(page, app_url):
    open_page(page, app_url, "generate")
    page.locator(".js-plotly-plot").first.wait_for()
    assert page.get_by_text("Click anywhere on the map").count() == 1
    geo = PlotGeometry(page, 0)
    px, py = geo.empty_spot()
    n_images = page.locator('[data-testid="stImage"]').count()
    click(page, px, py)
    x, y = decoded_at(page)
    want_x, want_y = geo.to_data(px, py)
    # the invisible 60 x 60 grid answers with its nearest point: within one grid cell of the click
    (x0, x1), (y0, y1) = geo.g["xr"], geo.g["yr"]
    assert abs(x - want_x) <= (x1 - x0) / 59 and abs(y - want_y) <= (y1 - y0) / 59
    assert page.locator('[data-testid="stImage"]').count() == n_images + 1  # the decoded image appeared
    assert "clicked" in PlotGeometry(page, 0).names  # the spot is marked on the map


def test_click_on_a_point_decodes_that_point(page, app_url):
    open_page(page, app_url, "generate")
    page.locator(".js-plotly-plot").first.wait_for()
    geo = PlotGeometry(page, 0)
    row, px, py = geo.isolated_point()
    click(page, px, py)
    x, y = decoded_at(page)
    j = list(geo.ids).index(row)
    assert abs(x - geo.xy[j, 0]) < 0.01 and abs(y - geo.xy[j, 1]) < 0.01  # exactly the point's own spot
