"""Analogies page: a - b + c and a class vector on mnist5k, the measured move-right shift on sprites."""

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.apptest import open_app_page


def open_page() -> AppTest:
    return open_app_page("pages/analogies.py")


def test_mnist_analogy_and_class_vector():
    at = open_page()
    assert not at.exception and not at.error
    n_images = len(at.get("image"))
    at.number_input(key="analogy_a_mnist5k").set_value(5).run()
    at.selectbox(key="analogy_to_mnist5k").set_value("8").run()
    at.slider(key="analogy_strength").set_value(2.0).run()
    assert not at.exception and not at.error
    assert len(at.get("image")) == n_images
    rate = next(m for m in at.metric if "read as 8" in m.label)
    assert float(rate.value.rstrip("%")) > 50  # twice the 0 -> 8 vector turns most held-out 0s into 8s


def test_sprites_move_right_shift_is_measured():
    root = Path(os.environ.get("EXPLORER_CHECKPOINTS", "checkpoints"))
    assert (root / "sprites" / "conv-ae-d10" / "config.json").is_file(), "shipped sprites/conv-ae-d10 missing"
    at = open_page()
    at.sidebar.selectbox(key="dataset").set_value("sprites").run()
    assert not at.exception and not at.error
    assert at.radio(key="analogy_kind_sprites").value == "factor"
    shift = next(m for m in at.metric if m.label == "Move-right shift")
    assert float(shift.value.split()[0]) > 3.0  # pixels to the right at strength 1
    at.slider(key="analogy_strength").set_value(-1.0).run()
    shift = next(m for m in at.metric if m.label == "Move-right shift")
    assert float(shift.value.split()[0]) < -3.0
