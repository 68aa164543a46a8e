"""Disentangle page on the shipped DC-IGN, VAE and beta-VAE: MIG side by side, heat map, traversals."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.experiments.disentangle import DISENTANGLE_MODELS, default_disentangle_dir
from tests.apptest import open_app_page

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


def open_page() -> AppTest:
    return open_app_page("pages/disentangle.py", timeout=120)


def test_page_shows_mig_heat_map_and_traversals():
    assert (default_disentangle_dir(SHIPPED) / "results.json").is_file(), "shipped disentanglement results missing"
    at = open_page()
    assert not at.exception and not at.error
    labels = [m.label for m in at.metric]
    assert labels == ["MIG, DC-IGN", "group MIG, DC-IGN", "MIG, VAE (beta = 1)", "group MIG, VAE (beta = 1)",
                      "MIG, beta-VAE", "group MIG, beta-VAE"]
    assert all(-1 <= float(m.value) <= 1 for m in at.metric)  # a group MIG can be negative: the group says less
    assert "group MIG" in at.dataframe[0].value.index
    assert any("One recipe for all three" in c.value for c in at.caption)  # steps, lr, validation, best steps
    assert at.get("plotly_chart")
    for method in DISENTANGLE_MODELS[1:]:
        at.radio(key="dis_method").set_value(method).run()
        assert not at.exception and not at.error
    at.number_input(key="dis_index").set_value(7).run()
    assert not at.exception


def test_missing_results_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path))
    at = open_page()
    assert not at.exception
    assert any("No disentanglement models" in i.value for i in at.info)
