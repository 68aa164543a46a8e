"""Latent map in a real Chromium: both maps render; a click on a point shows its image and highlights it on the
other map."""

import re

import numpy as np

from tests.e2e.conftest import open_page, wait_for_app

GEOMETRY = """(i) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[i];
  const fl = gd._fullLayout, box = gd.querySelector('.nsewdrag').getBoundingClientRect();
  // the data traces: those that carry row ids (not the click grid, highlights, paths or a heat layer)
  const data = gd._fullData.filter(t => t.customdata && !['click grid', 'selected', 'clicked'].includes(t.name))
    .map(t => ({x: Array.from(t.x), y: Array.from(t.y), id: Array.from(t.customdata)}));
  return {left: box.left, top: box.top, width: box.width, height: box.height, data: data,
          xr: fl.xaxis.range, yr: fl.yaxis.range, names: gd._fullData.map(t => t.name)};
}"""


class PlotGeometry:
    """Where the data points of the i-th plotly chart lie on the screen (pixels), read from the live figure."""

    def __init__(self, page, i: int = 0):
        page.locator(".js-plotly-plot").nth(i).scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        g = page.evaluate(GEOMETRY, i)
        self.g, self.names = g, g["names"]
        self.ids = np.concatenate([t["id"] for t in g["data"]]).astype(int)
        xs, ys = (np.concatenate([t[axis] for t in g["data"]]) for axis in ("x", "y"))
        self.xy = np.column_stack([xs, ys])
        self.px = np.column_stack(self.to_px(self.xy[:, 0], self.xy[:, 1]))

    def to_px(self, x, y):
        (x0, x1), (y0, y1), g = self.g["xr"], self.g["yr"], self.g
        px = g["left"] + (np.asarray(x) - x0) / (x1 - x0) * g["width"]
        py = g["top"] + (y1 - np.asarray(y)) / (y1 - y0) * g["height"]
        return px, py

    def to_data(self, px, py):
        (x0, x1), (y0, y1), g = self.g["xr"], self.g["yr"], self.g
        return x0 + (px - g["left"]) / g["width"] * (x1 - x0), y1 - (py - g["top"]) / g["height"] * (y1 - y0)

    def isolated_point(self) -> tuple[int, float, float]:
        """(row id, px, py) of the data point farthest from any other, away from the plot's edges."""
        d = np.linalg.norm(self.px[:, None] - self.px[None], axis=2) if len(self.px) <= 1500 else None
        if d is None:  # large maps: nearest-neighbour distances with sklearn
            from sklearn.neighbors import NearestNeighbors

            nn = NearestNeighbors(n_neighbors=2).fit(self.px).kneighbors(self.px)[0][:, 1]
        else:
            np.fill_diagonal(d, np.inf)
            nn = d.min(1)
        inside = self._inside(self.px[:, 0], self.px[:, 1], margin=30)
        j = int(np.argmax(np.where(inside, nn, -1)))
        return int(self.ids[j]), float(self.px[j, 0]), float(self.px[j, 1])

    def empty_spot(self) -> tuple[float, float]:
        """A pixel inside the plot area as far as possible from every data point."""
        g = self.g
        gx, gy = np.meshgrid(np.linspace(g["left"] + 40, g["left"] + g["width"] - 40, 40),
                             np.linspace(g["top"] + 60, g["top"] + g["height"] - 40, 40))
        cand = np.column_stack([gx.ravel(), gy.ravel()])
        from sklearn.neighbors import NearestNeighbors

        dist = NearestNeighbors(n_neighbors=1).fit(self.px).kneighbors(cand)[0][:, 0]
        j = int(np.argmax(dist))
        assert dist[j] > 15, "no empty space on the map"
        return float(cand[j, 0]), float(cand[j, 1])

    def _inside(self, px, py, margin):
        g = self.g
        return ((px > g["left"] + margin) & (px < g["left"] + g["width"] - margin)
                & (py > g["top"] + margin + 40) & (py < g["top"] + g["height"] - margin))


def click(page, px, py):
    page.mouse.move(px, py)
    page.wait_for_timeout(200)
    page.mouse.click(px, py)
    page.wait_for_timeout(800)
    wait_for_app(page)


def test_both_maps_render_with_webgl_points(page, app_url):
    open_page(page, app_url, "latent_map")
    page.locator(".js-plotly-plot").nth(1).wait_for()
    assert page.locator(".js-plotly-plot").count() == 2
    for i in range(2):
        geo = PlotGeometry(page, i)
        assert len(geo.ids) == 5000 and sorted(geo.ids) == list(range(5000))
    assert page.locator("canvas").count() >= 2  # Scattergl draws with WebGL
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert text.count("kNN accuracy") == 2 and "Traceback" not in text


def test_click_on_a_point_shows_its_image_and_highlights_it_on_the_other_map(page, app_url):
    open_page(page, app_url, "latent_map")
    page.locator(".js-plotly-plot").nth(1).wait_for()
    geo = PlotGeometry(page, 0)
    row, px, py = geo.isolated_point()
    click(page, px, py)
    page.get_by_text(re.compile(rf"^Image {row} \(label \d\)$")).wait_for(timeout=30_000)
    images = page.locator('[data-testid="stImage"] img')
    assert images.count() >= 3  # the image, its reconstruction, PCA's
    other = PlotGeometry(page, 1)
    assert "selected" in other.names  # the same point highlighted on the PCA map
