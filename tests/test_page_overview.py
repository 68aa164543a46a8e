"""AppTest: the shell, the shared sidebar and the Overview page on the shipped checkpoints."""

from tests.apptest import open_app_page


def test_overview_runs_on_default_data():
    at = open_app_page("pages/overview.py", timeout=120)
    assert not at.exception
    assert at.sidebar.selectbox(key="dataset").value == "mnist5k"
    assert at.sidebar.selectbox(key="checkpoint").value == "conv-ae-d16"
    assert "held-out error" in " ".join(m.value for m in at.sidebar.markdown)
    titles = [h.value for h in at.subheader]
    assert any(t.startswith("conv-ae d=16: error") for t in titles) and any(t.startswith("PCA d=16") for t in titles)


def test_sidebar_choice_reaches_the_page_and_survives_a_switch():
    at = open_app_page("pages/overview.py", timeout=120)
    at.sidebar.selectbox(key="checkpoint").set_value("vae-d2").run()
    assert not at.exception
    assert any(h.value.startswith("vae d=2") for h in at.subheader)
    at.switch_page("pages/compare.py").run()
    at.switch_page("pages/overview.py").run()
    assert at.sidebar.selectbox(key="checkpoint").value == "vae-d2"


def test_slider_changes_the_strip():
    at = open_app_page("pages/overview.py", timeout=120)
    at.slider(key="overview_n").set_value(5).run()
    assert not at.exception
    assert at.slider(key="overview_n").value == 5
