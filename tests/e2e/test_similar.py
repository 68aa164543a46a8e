"""Similar in a real browser: a click on a point of the map, an uploaded image, and a drawing find neighbours."""

import numpy as np
from PIL import Image

from explorer.datasets import load_dataset
from tests.e2e.conftest import open_page, wait_for_app

# The map's rightmost point (the most isolated, so a click cannot land on another), its row id and its
# position on the screen, from plotly's own axes. _fullData holds the decoded arrays (plotly.py sends base64).
RIGHTMOST_POINT_JS = """() => {
  const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  let best = null;
  gd._fullData.forEach(tr => {
    for (let i = 0; i < tr.x.length; i++) {
      if (best === null || tr.x[i] > best.x) best = {x: tr.x[i], y: tr.y[i], id: tr.customdata[i]};
    }
  });
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return {id: Number(best.id), px: box.left + xa._offset + xa.l2p(best.x), py: box.top + ya._offset + ya.l2p(best.y)};
}"""


def captions(page) -> list[str]:
    return page.locator('[data-testid="stImageCaption"]').all_inner_texts()


def wait_for_neighbours(page) -> None:
    """Wait until the query and its three strips of 10 neighbours (code, PCA, pixels) are on the page."""
    page.wait_for_function("""() => document.body.innerText.includes('In raw pixels')
        && document.querySelectorAll('[data-testid="stImageCaption"]').length >= 31""", timeout=60_000)
    wait_for_app(page)
    assert page.get_by_role("heading", name="In raw pixels").count() == 1
    assert "Traceback" not in page.content() and page.locator('[data-testid="stException"]').count() == 0


def test_click_on_a_point_shows_its_neighbours(page, app_url):
    open_page(page, app_url, "similar")
    chart = page.locator('[data-testid="stPlotlyChart"]')
    chart.wait_for()
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')?._fullData")
    chart.scroll_into_view_if_needed()
    target = page.evaluate(RIGHTMOST_POINT_JS)
    assert captions(page)[0].startswith("query: image 9,")  # the default before any click
    page.mouse.click(target["px"], target["py"])
    page.wait_for_function(f"() => document.body.innerText.includes('query: image {target['id']},')", timeout=60_000)
    wait_for_neighbours(page)
    neighbour_ids = [c.split("#")[1].split(" ")[0] for c in captions(page)[1:]]
    assert str(target["id"]) not in neighbour_ids  # the query itself is not its own neighbour


def test_uploaded_image_returns_neighbours(page, app_url, tmp_path):
    ds = load_dataset("mnist5k")
    row = int(np.flatnonzero(ds.labels == 2)[5])
    path = tmp_path / "two.png"
    Image.fromarray((ds.images[row, 0].numpy() * 255).round().astype(np.uint8)).save(path)
    open_page(page, app_url, "similar")
    page.get_by_text("Upload an image", exact=True).click()
    wait_for_app(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    page.get_by_text("query, as the model sees it").wait_for(timeout=60_000)
    wait_for_neighbours(page)
    assert page.get_by_text("Most neighbours are 2").count() >= 2  # code space and PCA space agree it is a 2
    pixel_nearest = captions(page)[-10]
    assert f"#{row} " in pixel_nearest  # in pixels the nearest image is the uploaded one itself


def test_a_digit_drawn_with_the_mouse_returns_neighbours(page, app_url):
    open_page(page, app_url, "similar")
    page.get_by_text("Draw", exact=True).click()
    wait_for_app(page)
    canvas = page.locator("canvas").last
    canvas.wait_for()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15
    page.mouse.move(x, top)
    page.mouse.down()
    for step in range(1, 21):  # a vertical stroke: a "1"
        page.mouse.move(x + step * 0.5, top + step * box["height"] * 0.035)
    page.mouse.up()
    page.get_by_text("query, as the model sees it").wait_for(timeout=60_000)
    wait_for_neighbours(page)
    assert page.get_by_text("Most neighbours are 1").count() >= 1
