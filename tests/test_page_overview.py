"""AppTest: the shell, the shared sidebar and the Overview page on the shipped checkpoints; the choice of examples."""

import numpy as np

from explorer.examples import examples_per_class
from tests.apptest import open_app_page


def test_examples_are_a_few_of_every_class_in_order():
    labels = np.array([0, 0, 0, 1, 2, 2, 1, 0, 2, 1])
    rows = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])  # any order of rows: their own order within a class is kept
    assert examples_per_class(rows, labels, 2).tolist() == [7, 2, 9, 6, 8, 5]  # labels 0 0 | 1 1 | 2 2
    assert examples_per_class(rows, labels, 5).tolist() == [7, 2, 1, 0, 9, 6, 3, 8, 5, 4]  # all, class by class
    assert examples_per_class(rows, labels, 1, max_classes=2).tolist() == [7, 9]
    assert examples_per_class(rows, None, 1).tolist() == rows.tolist()  # unlabelled: the first rows


def test_overview_shows_held_out_images_of_every_class(mnist5k):
    at = open_app_page("pages/overview.py", timeout=120)
    assert not at.exception
    shown = at.get("image")[0].captions
    assert shown == [str(k) for k in range(10) for _ in range(2)]  # two of each digit, 0 to 9
    assert at.subheader[0].value == "Held-out images: 2 of every class"
    deltas = {m.label: m.delta for m in at.metric}
    assert not deltas["Dataset"] and not deltas["Model"]  # names, not differences: no arrow
    assert deltas["Held-out error"].endswith("vs PCA") and deltas["kNN accuracy"].endswith("vs PCA")
    at.sidebar.selectbox(key="checkpoint").set_value("pca-d16").run()
    assert not at.exception
    assert not any(m.delta for m in at.metric)  # PCA against itself: nothing to compare


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
    at.slider(key="overview_n").set_value(4).run()
    assert not at.exception
    assert len(at.get("image")[0].captions) == 40 and at.subheader[0].value == "Held-out images: 4 of every class"
