"""Views that need a model beside its baseline, in a real Chromium: the decode reliability layer on Generate and
the AE vs PCA colouring of both linked maps on the Latent map."""

from tests.e2e.conftest import open_page, wait_for_app
from tests.e2e.test_latent_map import PlotGeometry, click
from tests.e2e.test_train import choose

LAYER = """(i) => {
  const t = document.querySelectorAll('.js-plotly-plot')[i]._fullData.find(t => t.name === 'reliability');
  return t ? Array.from(t.z).flatMap(row => Array.from(row)) : null;
}"""
COLOURS = """(i) => {
  const numeric = c => c && (Array.isArray(c) || ArrayBuffer.isView(c));  // plotly may hold a typed array
  const t = document.querySelectorAll('.js-plotly-plot')[i]._fullData.find(t => t.customdata && t.marker
    && numeric(t.marker.color));
  const colour = t ? Array.from(t.marker.color) : [];
  return t ? {n: colour.length, cmin: t.marker.cmin, cmax: t.marker.cmax,
              below: colour.filter(v => v < 0).length} : null;
}"""


def test_decode_reliability_layer_and_the_score_of_a_clicked_spot(page, app_url):
    open_page(page, app_url, "generate")
    page.locator(".js-plotly-plot").first.wait_for()
    assert page.evaluate(LAYER, 0) is None  # off until asked for
    page.get_by_text("Decode reliability", exact=True).click()
    page.get_by_text("Decode reliability on a 40 x 40 grid").wait_for(timeout=60_000)
    wait_for_app(page)
    z = page.evaluate(LAYER, 0)
    assert z is not None and len(z) == 40 * 40
    assert 0 <= min(z) and max(z) <= 1 and max(z) - min(z) > 0.2  # reliable near the data, not far from it
    geo = PlotGeometry(page, 0)
    _, px, py = geo.isolated_point()
    click(page, px, py)  # the layer under the points leaves clicks to them
    page.get_by_text("decoded at (").wait_for(timeout=30_000)
    assert page.get_by_text("Decode reliability of this spot").count() == 1


def test_ae_vs_pca_error_difference_colours_both_maps(page, app_url):
    open_page(page, app_url, "latent_map")
    page.locator(".js-plotly-plot").nth(1).wait_for()
    choose(page, "Colour by", "AE vs PCA: error difference")
    page.get_by_text("Where the autoencoder helps most").wait_for(timeout=60_000)
    for i in range(2):  # the model's map and PCA's: the same images, the same colours, centred at 0
        c = page.evaluate(COLOURS, i)
        assert c is not None and c["n"] > 1000, c
        assert c["cmin"] == -c["cmax"] and c["below"] > 0
    assert page.get_by_text("Where the autoencoder helps least").count() == 1
