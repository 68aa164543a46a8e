"""AppTest of the Export page on the shipped checkpoints: the download buttons and the map follow the sidebar."""

import pytest

from tests.apptest import open_app_page


@pytest.fixture(scope="module")
def at():
    return open_app_page("pages/export.py")


def labels(at) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_download_buttons(at):
    assert not at.exception and not at.main.error
    assert labels(at) == ["Download codes (CSV)", "Download map (HTML)", "Download map (PNG)",
                          "Download Projector files (zip)"]
    assert at.get("image")  # the PNG map is shown as its preview
    at.radio(key="export_format").set_value("parquet").run()
    assert labels(at)[0] == "Download codes (PARQUET)"
    preview = at.dataframe[0].value
    assert [c for c in preview.columns if c.startswith("z")] == [f"z{j}" for j in range(16)]  # conv-ae-d16


def test_sidebar_choice_reaches_the_page(at):
    at.sidebar.selectbox(key="checkpoint").set_value("vae-d2").run()
    assert not at.exception
    assert "vae-d2" in at.caption[0].value
    assert at.selectbox(key="export_map").options[0] == "direct"  # d = 2: the codes are the map
    preview = at.dataframe[0].value
    assert [c for c in preview.columns if c.startswith("z")] == ["z0", "z1"]
    n = at.number_input(key="export_projector_n")
    assert n.value == 5000
