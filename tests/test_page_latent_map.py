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


def test_method_and_colour_choice(at):
    method = at.selectbox(key="map_method")
    assert method.options == ["PCA", "UMAP", "t-SNE"]  # d = 16: no direct view
    method.select("umap").run()
    assert not at.exception and not at.error
    assert any("UMAP" in s.value for s in at.subheader)


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
