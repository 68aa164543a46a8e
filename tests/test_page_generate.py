"""Generate page (AppTest): runs on the shipped data, a clicked spot is decoded, sliders, interpolation, prior."""

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
