"""Generate page (AppTest): runs on the shipped data, a clicked spot is decoded and its reliability shown, the
reliability heat layer, sliders, interpolation, paths across the map with their exports, prior."""

import base64
import json

import numpy as np
import pytest

from tests.apptest import open_app_page


@pytest.fixture
def at():
    at = open_app_page("pages/generate.py", timeout=120)
    assert not at.exception, at.exception
    return at


def test_runs_on_default_data(at):
    assert at.title[0].value == "Generate"
    heads = [s.value for s in at.subheader]
    assert "Decoded grid over the map" in heads and "Interpolate between two images" in heads
    assert len(at.slider) >= 16 + 2  # 16 code sliders (d = 16), grid size, steps
    assert [c.value for c in at.caption].count("linear") == 1
    assert not at.error


def test_a_clicked_spot_is_decoded(at):
    assert any("Click anywhere" in i.value for i in at.info)
    at.session_state["gen_click"] = (0.5, -0.25)
    at.run()
    assert not at.exception
    assert not any("Click anywhere" in i.value for i in at.info)
    assert any(c.value.startswith("code: ") for c in at.caption)


def test_widgets(at):
    at.slider(key="gen_grid_n").set_value(6).run()
    at.number_input(key="gen_start").set_value(7).run()
    at.slider(key="gen_steps").set_value(5).run()
    at.selectbox(key="gen_method").select("pca").run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("Whole map.") for c in at.caption)
    at.session_state["gen_area"] = ((-1.0, 1.0), (-1.0, 1.0))
    at.run()
    assert not any(c.value.startswith("Whole map.") for c in at.caption)  # the grid covers the box now
    at.button(key="gen_whole").click().run()
    assert at.session_state["gen_area"] is None


def test_sidebar_choice_reaches_the_page_and_vae_samples(at):
    at.sidebar.selectbox(key="checkpoint").select("vae-d2").run()
    assert not at.exception
    assert at.selectbox(key="gen_method").value == "direct"
    assert len([s for s in at.slider if s.key and s.key.startswith("gen_dim_")]) == 2
    assert any("prior" in s.value for s in at.subheader)
    at.session_state["gen_click"] = (0.0, 0.0)  # the VAE's clicked spot is also judged by its prior
    at.run()
    assert any("prior term 1.00" in c.value for c in at.caption)


def _traces(at, chart: int = 0) -> list[dict]:
    """The traces of one of the page's charts (the first: the map)."""
    return json.loads(at.get("plotly_chart")[chart].proto.spec)["data"]


def _array(value) -> np.ndarray:
    """A trace's numbers: plotly writes numpy arrays as base64 typed arrays."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return out.reshape([int(n) for n in str(value.get("shape", len(out))).split(",")])
    return np.asarray(value)


def test_decode_reliability_toggle_colours_the_map_and_scores_the_clicked_spot(at):
    assert at.toggle(key="gen_reliability").value is False
    assert all(t["type"] != "heatmap" for t in _traces(at))
    at.toggle(key="gen_reliability").set_value(True).run()
    assert not at.exception
    heat = _traces(at)[0]  # first: drawn under the points
    assert heat["type"] == "heatmap" and heat["hoverinfo"] == "skip" and _array(heat["z"]).shape == (40, 40)
    assert any(c.value.startswith("Decode reliability on a 40 x 40 grid") for c in at.caption)
    at.session_state["gen_click"] = (0.5, -0.25)  # on the map, then far from any data
    at.run()
    on_data = float(at.metric[0].value)
    assert at.metric[0].label == "Decode reliability of this spot" and 0 < on_data <= 1
    assert any("map spacings from the nearest image" in c.value for c in at.caption)
    at.session_state["gen_click"] = (1e3, 1e3)
    at.run()
    assert float(at.metric[0].value) < 0.05 < on_data


def test_pca_map_of_d16_codes_reads_as_unreliable(at):
    """conv-ae-d16: a spot of the PCA map decodes the plane's point, far worse than the codes' own UMAP map;
    the same images' own spots (the first 5 of one class) score far lower there."""
    scores = {}
    for method in ("umap", "pca"):
        at.selectbox(key="gen_method").select(method).run()
        images = next(t for t in _traces(at) if t.get("name") == "0")  # the class-0 markers
        xs, ys = _array(images["x"])[:5], _array(images["y"])[:5]
        scores[method] = []
        for x, y in zip(xs, ys):
            at.session_state["gen_click"] = (float(x), float(y))
            at.run()
            scores[method].append(float(at.metric[0].value))
    assert not at.exception
    assert np.median(scores["pca"]) < 0.3 * np.median(scores["umap"])  # measured 0.07 against 0.48


def test_path_across_the_map_shows_both_filmstrips_their_profile_and_exports(at):
    assert "Path across the map" in [s.value for s in at.subheader]
    caps = [c.value for c in at.caption]
    assert any(c.startswith("straight line: the straight line in code space") for c in caps)
    graph = "following the data: the shortest path through the 10-nearest-neighbour graph"
    assert any(c.startswith(graph) for c in caps)
    assert sorted(b.label for b in at.get("download_button")) == ["GIF", "GIF", "PNG strip", "PNG strip"]
    lines = _traces(at, -1)  # the profile: the page's last chart
    assert [t["name"] for t in lines] == ["straight line", "following the data"]
    for line in lines:
        x, y = _array(line["x"]), _array(line["y"])
        assert x[0] == 0 and x[-1] == 1 and np.all(np.diff(x) > 0) and np.all((0 < y) & (y <= 1))
    at.radio(key="gen_path_ends").set_value("the clicked spots").run()
    assert any("Click two or more spots" in i.value for i in at.info)
    at.session_state["gen_clicks"] = [(0.5, -0.25), (-2.0, 1.0), (1.0, 2.0)]
    at.run()
    assert not at.exception and not any("Click two or more spots" in i.value for i in at.info)
    assert len(at.get("download_button")) == 4
    assert any(c.value.startswith("following the data: the shortest path via 3 spots through the") for c in at.caption)
    at.button(key="gen_path_forget").click().run()
    assert at.session_state["gen_clicks"] == [] and any("Click two or more spots" in i.value for i in at.info)


def test_the_heat_layer_also_lies_over_a_density_map(monkeypatch):
    """Above DENSITY_ABOVE points the map is one density picture (here: 5,000 points over a lowered threshold)."""
    import explorer.mapplot
    import explorer.ui.mapview

    monkeypatch.setattr(explorer.mapplot, "DENSITY_ABOVE", 1000)
    monkeypatch.setattr(explorer.ui.mapview, "DENSITY_ABOVE", 1000)
    at = open_app_page("pages/generate.py", timeout=120, gen_reliability=True)
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["images"][0]["layer"] == "below"  # the density picture
    assert spec["data"][0]["type"] == "heatmap" and _array(spec["data"][0]["z"]).shape == (40, 40)
    assert any("drawn as density" in c.value for c in at.caption)


def test_the_paths_are_drawn_on_the_map(at):
    lines = {t["name"]: t for t in _traces(at) if t.get("name", "").startswith("path: ")}
    assert sorted(lines) == ["path: following the data", "path: straight line"]
    assert lines["path: straight line"]["hoverinfo"] == "skip"  # clicks go through to the points and grid
    data = np.column_stack([_array(lines["path: following the data"][c]) for c in ("x", "y")])
    assert len(data) >= 2 and np.all(np.isfinite(data))
