"""AppTest: the shell, the shared sidebar and the Overview page on the shipped checkpoints; the choice of examples."""

from pathlib import Path

import numpy as np
import pytest

from explorer.examples import examples_per_class
from tests.apptest import open_app_page

ROOT = Path(__file__).resolve().parents[1]


def test_examples_are_a_few_of_every_class_in_order():
    labels = np.array([0, 0, 0, 1, 2, 2, 1, 0, 2, 1])
    rows = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])  # any order of rows: their own order within a class is kept
    assert examples_per_class(rows, labels, 2).tolist() == [7, 2, 9, 6, 8, 5]  # labels 0 0 | 1 1 | 2 2
    assert examples_per_class(rows, labels, 5).tolist() == [7, 2, 1, 0, 9, 6, 3, 8, 5, 4]  # all, class by class
    assert examples_per_class(rows, labels, 1, max_classes=2).tolist() == [7, 9]
    assert examples_per_class(rows, None, 1).tolist() == rows.tolist()  # unlabelled: the first rows


@pytest.fixture(scope="module")
def overview():
    """The Overview page as it first opens, for the tests that only read it."""
    at = open_app_page("pages/overview.py", timeout=120)
    assert not at.exception
    return at


def shown_errors(at) -> list[float]:
    """The per-image errors in the model's and PCA's headings ("...: error 12.34 per image")."""
    return [float(h.value.split(": error ")[1].split(" ")[0]) for h in at.subheader if ": error " in h.value]


def expected_errors(mnist5k, names: tuple[str, str], n: int) -> list[float]:
    """The errors of the model and of PCA on the n examples per class the page should show."""
    from explorer.checkpoints import load_checkpoint
    from explorer.evaluate import reconstruct
    from explorer.metrics import recon_sse

    x = mnist5k.images[examples_per_class(mnist5k.test_idx, mnist5k.labels, n)]
    return [recon_sse(reconstruct(load_checkpoint(ROOT / "checkpoints" / "mnist5k" / name,
                                                  mnist5k.image_shape)[0], x), x) for name in names]


def test_overview_shows_held_out_images_of_every_class(overview, mnist5k):
    assert [img.captions for img in overview.get("image")][0] == [str(k) for k in range(10) for _ in range(2)]
    assert overview.subheader[0].value == "Held-out images: 2 of every class"
    deltas = {m.label: m.delta for m in overview.metric}
    assert not deltas["Dataset"] and not deltas["Model"]  # names, not differences: no arrow
    assert deltas["Held-out error"].endswith("vs PCA") and deltas["kNN accuracy"].endswith("vs PCA")
    assert shown_errors(overview) == pytest.approx(expected_errors(mnist5k, ("conv-ae-d16", "pca-d16"), 2), abs=0.005)


def test_overview_runs_on_default_data(overview):
    assert overview.sidebar.selectbox(key="dataset").value == "mnist5k"
    assert overview.sidebar.selectbox(key="checkpoint").value == "conv-ae-d16"
    assert "held-out error" in " ".join(m.value for m in overview.sidebar.markdown)
    titles = [h.value for h in overview.subheader]
    assert any(t.startswith("conv-ae d=16: error") for t in titles) and any(t.startswith("PCA d=16") for t in titles)


def test_sidebar_choice_reaches_the_page_and_survives_a_switch():
    at = open_app_page("pages/overview.py", timeout=120)
    at.sidebar.selectbox(key="checkpoint").set_value("vae-d2").run()
    assert not at.exception
    assert any(h.value.startswith("vae d=2") for h in at.subheader)
    at.switch_page("pages/compare.py").run()
    at.switch_page("pages/overview.py").run()
    assert at.sidebar.selectbox(key="checkpoint").value == "vae-d2"
    at.sidebar.selectbox(key="checkpoint").set_value("pca-d16").run()
    assert not at.exception
    assert not any(m.delta for m in at.metric)  # PCA against itself: nothing to compare


def test_slider_sets_how_many_images_of_each_class_are_shown_and_scored(mnist5k):
    at = open_app_page("pages/overview.py", timeout=120)
    at.slider(key="overview_n").set_value(4).run()
    assert not at.exception
    assert at.get("image")[0].captions == [str(k) for k in range(10) for _ in range(4)]  # four of each digit
    assert at.subheader[0].value == "Held-out images: 4 of every class"
    # the reconstruction strips and their errors are of the same 40 images, not of the first page's 20
    assert shown_errors(at) == pytest.approx(expected_errors(mnist5k, ("conv-ae-d16", "pca-d16"), 4), abs=0.005)
    assert shown_errors(at) != pytest.approx(expected_errors(mnist5k, ("conv-ae-d16", "pca-d16"), 2), abs=0.005)
