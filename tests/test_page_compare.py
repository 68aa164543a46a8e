"""AppTest of the Compare page on the shipped checkpoints: table, charts, reconstructions, sidebar choice."""

import pytest

from tests.apptest import open_app_page


@pytest.fixture(scope="module")
def at():
    return open_app_page("pages/compare.py")


def test_runs_with_table_and_charts(at):
    assert not at.exception and not at.main.error
    table = at.dataframe[0].value
    assert {"pca", "mlp-ae", "conv-ae", "vae"} <= set(table["family"])
    pca = table[table["family"] == "pca"]
    assert list(pca["error / PCA's"]) == pytest.approx([1.0] * len(pca))
    # Deep autoencoders beat PCA at d = 16 on held-out MNIST; the linear one only matches it.
    d16 = table[table["dim"] == 16].set_index("family")
    assert d16.loc["conv-ae", "held-out error"] < 0.8 * d16.loc["pca", "held-out error"]
    assert d16.loc["linear-ae", "error / PCA's"] == pytest.approx(1.0, abs=0.1)
    charts = at.get("plotly_chart")
    assert len(charts) == 4  # error, explained variance, kNN accuracy, trustworthiness


def test_reconstructions_follow_the_sidebar(at):
    at.sidebar.selectbox(key="checkpoint").set_value("vae-d2").run()
    assert not at.exception
    assert any("Selected **vae-d2**" in m.value for m in at.main.markdown)
    chosen = at.multiselect[0].value
    assert "vae-d2" in chosen and all(c.endswith("-d2") for c in chosen)  # the same d as the sidebar's choice
    rows = [m.value for m in at.main.markdown if m.value.startswith("**") and "per image" in m.value]
    assert len(rows) == len(chosen)
    at.slider(key="compare_n").set_value(5).run()
    images = at.get("image")
    assert len(images) == len(chosen) + 1  # the originals, then one row per chosen checkpoint
    assert all(len(img.proto.imgs) == 5 for img in images)
