"""Latent map page (AppTest): runs on the shipped data, its widgets work, the sidebar choice reaches it."""

import pytest

from tests.apptest import open_app_page


@pytest.fixture
def at():
    at = open_app_page("pages/latent_map.py", timeout=120)
    assert not at.exception, at.exception
    return at


def test_runs_on_default_data_with_both_maps(at):
    assert at.title[0].value == "Latent map"
    assert any("conv-ae" in s.value for s in at.subheader)
    assert any("PCA baseline" in s.value for s in at.subheader)
    captions = " ".join(c.value for c in at.caption)
    assert captions.count("kNN accuracy") == 2 and captions.count("trustworthiness") == 2
    assert not at.error


def class_traces(at, i) -> dict[str, int]:
    """Points per legend entry of the i-th chart when it is coloured by class (one trace per class)."""
    import base64
    import json

    import numpy as np

    def count(ids):  # plotly sends a numpy array as {"dtype", "bdata": base64}
        return len(np.frombuffer(base64.b64decode(ids["bdata"]), dtype=ids["dtype"])) if isinstance(ids, dict) \
            else len(ids)

    data = json.loads(at.get("plotly_chart")[i].proto.spec)["data"]
    return {t["name"]: count(t["customdata"]) for t in data if t.get("name", "").isdigit()}


def test_method_and_colour_choice(at, mnist5k):
    import numpy as np

    method = at.selectbox(key="map_method")
    assert method.options == ["PCA", "UMAP", "t-SNE"]  # d = 16: no direct view
    method.select("umap").run()
    assert not at.exception and not at.error
    assert any("UMAP" in s.value for s in at.subheader)
    # coloured by label (the default): one legend entry per digit, holding that digit's images, and no colour bar
    per_class = {str(k): int(n) for k, n in zip(*np.unique(mnist5k.labels, return_counts=True))}
    assert at.selectbox(key="map_color").value == "label"
    assert class_traces(at, 0) == class_traces(at, 1) == per_class and chart_markers(at, 0) == []
    at.selectbox(key="map_color").select("AE vs PCA: neighbours shared with PCA").run()
    assert not at.exception and not at.error
    assert class_traces(at, 0) == {}  # the legend of classes is gone: one trace coloured by the value
    (model_marker,), (pca_marker,) = chart_markers(at, 0), chart_markers(at, 1)
    assert model_marker["colorbar"]["title"]["text"] == pca_marker["colorbar"]["title"]["text"] != "label"
    assert len(model_marker["color"]) == 5000 and 0 <= model_marker["color"].min() < model_marker["color"].max() <= 1
    np.testing.assert_array_equal(model_marker["color"], pca_marker["color"])  # one value per image on both maps
    at.selectbox(key="map_color").select("label").run()
    assert class_traces(at, 0) == per_class and chart_markers(at, 0) == []


def test_sidebar_choice_reaches_the_page(at):
    at.sidebar.selectbox(key="checkpoint").select("vae-d2").run()
    assert not at.exception
    assert at.selectbox(key="map_method").options[0] == "codes (d = 2)"
    assert any("vae d=2" in s.value for s in at.subheader)


def test_a_selection_shows_images(at):
    at.session_state["map_selection"] = {"ids": [5], "area": False, "source": "map_model"}
    at.run()
    assert any(s.value.startswith("Image 5 ") for s in at.subheader)
    at.session_state["map_selection"] = {"ids": [1, 2, 3, 4], "area": True, "source": "map_pca"}
    at.run()
    assert any("4 selected images" in s.value for s in at.subheader)
    at.button(key="map_clear").click().run()
    assert not any("selected images" in s.value for s in at.subheader)


def test_a_missing_slow_map_waits_for_a_button_that_says_how_long(at, monkeypatch):
    from explorer.checkpoints import checkpoint_root
    from explorer.ui import state

    monkeypatch.setattr(state, "AUTO_MAP_SECONDS", 5)  # t-SNE of 5,000 codes (about 16 s) counts as slow here
    at.selectbox(key="map_method").select("tsne").run()
    assert not at.exception
    info = " ".join(i.value for i in at.info)
    assert "no stored t-SNE map of 5,000 codes" in info and "explorer maps" in info and "--method tsne" in info
    button = at.button(key="compute_tsne")
    assert "Compute the t-SNE map of 5,000 codes now (about" in button.label
    assert not (checkpoint_root() / "mnist5k" / "conv-ae-d16" / "projections" / "tsne.npz").exists()  # not computed


def test_an_area_is_highlighted_on_the_other_map_and_left_to_plotly_on_its_own(at):
    import json

    def traces(i):  # trace names of the i-th chart
        return [t.get("name") for t in json.loads(at.get("plotly_chart")[i].proto.spec)["data"]]

    identity = at.session_state["map_model_identity"]
    at.session_state["map_selection"] = {"ids": list(range(30)), "area": True, "source": "map_model",
                                         "drawn_on": ((identity, ()), "label")}
    at.run()
    assert not at.exception
    assert "selected" not in traces(0)  # plotly still shows the box drawn there: no redraw
    assert "selected" in traces(1)  # the PCA map shows the selected images
    layout = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    whole = (tuple(layout["xaxis"]["range"]), tuple(layout["yaxis"]["range"]))
    at.session_state["map_model_views"] = [whole]  # zoomed (to the same area) since: plotly's outline is gone
    at.run()
    assert "selected" in traces(0)


def chart_markers(at, i):
    """The marker dicts of the i-th chart's coloured traces (those with a colour bar), colours decoded."""
    import base64
    import json

    import numpy as np

    markers = [t["marker"] for t in json.loads(at.get("plotly_chart")[i].proto.spec)["data"]
               if t.get("marker", {}).get("showscale")]
    for m in markers:  # plotly sends a numpy array as {"dtype", "bdata": base64}
        if isinstance(m["color"], dict):
            m["color"] = np.frombuffer(base64.b64decode(m["color"]["bdata"]), dtype=m["color"]["dtype"])
    return markers


def test_ae_vs_pca_colours_both_maps_and_lists_where_the_autoencoder_helps(at):
    colour = at.selectbox(key="map_color")
    assert {"AE vs PCA: error difference", "AE vs PCA: neighbours shared with PCA",
            "AE vs PCA: neighbours shared with pixels"} <= set(colour.options)
    colour.select("AE vs PCA: error difference").run()
    assert not at.exception and not at.error
    for i in (0, 1):  # the model's map and PCA's, both on the diverging scale centred at 0
        (marker,) = chart_markers(at, i)
        assert marker["cmin"] == -marker["cmax"] < 0 and len(marker["color"]) == 5000
        assert (marker["color"] < 0).sum() > 4000  # conv-ae beats PCA on most images
    captions = " ".join(c.value for c in at.caption)
    assert "minus under PCA d=16" in captions and "Measured on all 5,000 images" in captions
    assert any(s.value == "AE vs PCA per image" for s in at.subheader)
    lists = " ".join(m.value for m in at.markdown)
    assert "Where the autoencoder helps most" in lists and "Where the autoencoder helps least" in lists
    assert len(at.get("image")) >= 6  # image, AE and PCA strips for each list
    colour.select("AE vs PCA: neighbours shared with pixels").run()
    assert not at.exception
    (marker,) = chart_markers(at, 1)
    assert (marker["cmin"], marker["cmax"]) == (0, 1) and 0 <= min(marker["color"]) <= max(marker["color"]) <= 1
    assert "nearest in pixel space" in " ".join(c.value for c in at.caption)


def test_ae_vs_pca_on_sprites_and_not_offered_for_pca_itself(at):
    at.sidebar.selectbox(key="dataset").select("sprites").run()
    at.sidebar.selectbox(key="checkpoint").select("conv-ae-d10").run()
    at.selectbox(key="map_color").select("AE vs PCA: neighbours shared with PCA").run()
    assert not at.exception and not at.error
    assert len(chart_markers(at, 0)) == len(chart_markers(at, 1)) == 1
    assert "Measured on all 10,000 images" in " ".join(c.value for c in at.caption)
    assert any(s.value == "AE vs PCA per image" for s in at.subheader)
    at.sidebar.selectbox(key="checkpoint").select("pca-d10").run()
    assert not at.exception and not at.error
    assert not any(o.startswith("AE vs PCA") for o in at.selectbox(key="map_color").options)
    assert not any(s.value == "AE vs PCA per image" for s in at.subheader)
