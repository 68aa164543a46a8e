"""Decoder swap page on the shipped swap model: grid, pose table, a tiny retrain into a temporary root."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.experiments.swap import FLOOR, default_swap_dir
from tests.apptest import open_app_page

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


def open_page() -> AppTest:
    return open_app_page("pages/decoder_swap.py", timeout=120)


def test_page_shows_grid_and_pose_table():
    assert (default_swap_dir(root=SHIPPED) / "model.safetensors").is_file(), "shipped swap model missing"
    at = open_page()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert "swap (shared encoder)" in table.index and "position error (px)" in table.columns
    swap, base, floor = (table.loc[row] for row in ("swap (shared encoder)", "baseline (separate AEs)", FLOOR))
    assert swap["position error (px)"] < base["position error (px)"]
    assert floor["position error (px)"] <= swap["position error (px)"]  # the target's own floor
    assert swap["angles scored"] == floor["angles scored"] == 500  # every target ellipse's axis is measurable
    n_images = len(at.get("image"))
    assert n_images == 5  # rows: A, swapped, baseline, ideal, ideal reconstructed (the floor)
    at.slider(key="swap_n").set_value(4).run()
    assert not at.exception and len(at.get("image")) == n_images  # same rows, fewer images per row


def test_missing_models_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path))
    at = open_page()
    assert not at.exception
    assert any("No decoder-swap model" in i.value for i in at.info)


@pytest.mark.slow
def test_retrain_button_writes_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path))
    at = open_page()
    at.selectbox(key="swap_shape_a").set_value("square")
    at.selectbox(key="swap_shape_b").set_value("triangle")
    at.slider(key="swap_epochs").set_value(1)
    at.select_slider(key="swap_n_train").set_value(200)
    at.button(key="swap_train").click().run()
    assert not at.exception and not at.error
    assert (tmp_path / "sprites" / "experiments" / "swap-square-triangle" / "results.json").is_file()
