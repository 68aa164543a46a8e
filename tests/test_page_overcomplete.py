"""Over-complete page on the shipped results: finding, table, image rows; a clear message without results."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.experiments.overcomplete import (
    KINDS,
    OVERCOMPLETE_MODELS,
    default_overcomplete_dir,
    finding,
    load_overcomplete,
)
from tests.apptest import open_app_page

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


def open_page() -> AppTest:
    return open_app_page("pages/overcomplete.py", timeout=120)


def test_page_shows_the_table_the_finding_and_the_images():
    path = default_overcomplete_dir(SHIPPED)
    assert (path / "results.json").is_file(), "shipped over-complete results missing"
    at = open_page()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert {"plain", "sparse (L1)", "denoising"} <= set(table.index)
    assert {"held-out digits", "uniform noise", "active fraction"} <= set(table.columns)
    results = load_overcomplete(path).results
    assert table.loc["plain", "uniform noise"] == results["methods"]["plain"]["sse"]["noise"]
    shown = " ".join(m.value for m in at.markdown)
    assert finding(results)[0] in shown  # the finding, computed from the stored numbers
    assert f"{results['methods']['plain']['sse']['digits']:.2f}" in shown
    n_images = len(at.get("image"))
    # per kind: the inputs, then each model's reconstruction
    assert n_images == len(KINDS) * (1 + len(OVERCOMPLETE_MODELS))
    at.slider(key="oc_n").set_value(4).run()
    assert not at.exception and len(at.get("image")) == n_images


@pytest.mark.slow
def test_retrain_button_writes_results(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path))
    at = open_page()
    at.select_slider(key="oc_steps").set_value(300)
    at.button(key="oc_train").click().run()
    assert not at.exception and not at.error
    assert load_overcomplete(default_overcomplete_dir(tmp_path)).config.train.steps == 300
    assert at.dataframe and "No over-complete results" not in " ".join(i.value for i in at.info)
