"""Latent map (AppTest): a selection of images belongs to its dataset and goes when the dataset changes."""

from tests.apptest import open_app_page


def test_selection_survives_a_checkpoint_change_but_not_a_dataset_change():
    at = open_app_page("pages/latent_map.py", timeout=180)
    at.session_state["map_selection"] = {"ids": [5], "area": False, "source": "map_model"}
    at.run()
    assert not at.exception and any(s.value.startswith("Image 5 ") for s in at.subheader)
    at.sidebar.selectbox(key="checkpoint").set_value("mlp-ae-d2").run()  # same images, another model
    assert not at.exception and at.session_state["map_selection"]["ids"] == [5]
    assert any(s.value.startswith("Image 5 ") for s in at.subheader)
    at.sidebar.selectbox(key="dataset").set_value("digits").run()  # row 5 is another image there
    assert not at.exception
    assert "map_selection" not in at.session_state
    assert not any(s.value.startswith("Image 5 ") for s in at.subheader)
    assert any("Click a point" in i.value for i in at.info)  # the page asks for a new selection
