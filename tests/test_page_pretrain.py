"""Pre-train page: the stored result of the shipped checkpoint, a recompute on a tiny model, PCA refused."""

import pytest
from streamlit.testing.v1 import AppTest

from explorer.pipeline import train_checkpoint
from explorer.train import TrainConfig
from tests.apptest import open_app_page


def open_page() -> AppTest:
    return open_app_page("pages/pretrain.py")


def test_shipped_result_shows_chart_table_and_gap():
    at = open_page()  # sidebar default: mnist5k/conv-ae-d16, whose pretrain.json is shipped
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table.index) == ["1", "5", "10", "50", "all"]
    assert len(table.columns) == 4
    assert table.loc["10", "pre-trained, frozen (%)"] > table.loc["10", "random, frozen (%)"] + 20
    assert table.loc["all", "pre-trained, fine-tuned (%)"] > 90
    assert len(at.get("plotly_chart")) == 1
    assert any("10 labels per class" in m.label for m in at.metric)


@pytest.fixture
def tiny_root(tmp_path, monkeypatch):
    train_checkpoint("digits", "mlp-ae", 4, TrainConfig(epochs=2, batch_size=128), {"hidden": (16,)}, root=tmp_path)
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path))
    return tmp_path


def test_recompute_writes_the_result_beside_the_checkpoint(tiny_root):
    at = open_page()
    assert not at.exception
    assert any("No stored result" in i.value for i in at.info)
    at.number_input(key="pretrain_steps").set_value(10)
    at.number_input(key="pretrain_seeds").set_value(1)
    at.button(key="pretrain_run").click().run()
    assert not at.exception and not at.error
    assert (tiny_root / "digits" / "mlp-ae-d4" / "pretrain" / "results.json").is_file()  # the run folder
    assert list(at.dataframe[0].value.index) == ["1", "5", "10", "50", "all"]
    at.sidebar.selectbox(key="checkpoint").set_value("pca-d4").run()
    assert not at.exception
    assert any("encoder" in e.value for e in at.error)
