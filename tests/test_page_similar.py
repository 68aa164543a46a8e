"""The Similar page under AppTest: default data, index query, k, metric, uploads, and the sidebar's choice."""

import functools
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.neighbors import NearestNeighbors
from streamlit.testing.v1 import AppTest

from explorer.checkpoints import load_checkpoint
from explorer.evaluate import encode_all
from tests.apptest import open_app_page

ROOT = Path(__file__).resolve().parents[1]


def similar_page() -> AppTest:
    at = open_app_page("pages/similar.py", timeout=120)
    assert not at.exception
    return at


def neighbour_rows(at) -> list[list[int]]:
    """Row ids in the three neighbour strips (code, PCA, pixels), read from the '#id' in each caption."""
    strips = [img.captions for img in at.get("image")[1:]]
    return [[int(c.split("#")[1].split(" ")[0]) for c in caps] for caps in strips]


@functools.cache
def shipped_codes(name: str) -> np.ndarray:
    """Codes of all 5,000 mnist5k images under a shipped checkpoint, encoded once per test session."""
    from explorer.datasets import load_dataset

    images = load_dataset("mnist5k")
    model, _ = load_checkpoint(ROOT / "checkpoints" / "mnist5k" / name, images.image_shape)
    return encode_all(model, images.images).numpy()


def expected_neighbours(mnist5k, name: str, row: int, k: int, metric: str = "euclidean") -> list[int]:
    z = shipped_codes(name)
    nn = NearestNeighbors(n_neighbors=k + 1, metric=metric, algorithm="brute").fit(z)
    idx = nn.kneighbors(z[row : row + 1])[1][0]
    return [int(i) for i in idx if i != row][:k]


def test_runs_on_default_data_with_three_rows_and_precision():
    at = similar_page()
    assert [s.value.split(" ")[1] for s in at.subheader] == ["conv-ae", "PCA", "raw"]
    query, *strips = at.get("image")
    test_row = 9  # mnist5k's first held-out image (a 0) is the default query
    assert query.captions == [f"query: image {test_row}, label 0"]
    assert [len(s.captions) for s in strips] == [10, 10, 10]
    assert all(test_row not in ids for ids in neighbour_rows(at))  # the query itself is excluded
    precisions = [float(m.value) for m in at.metric]
    assert len(precisions) == 3 and all(0 <= p <= 1 for p in precisions)
    assert precisions[0] >= 0.8  # a 0's code-space neighbours are mostly 0s
    assert sum("Exact search over 5,000 images" in c.value for c in at.caption) == 3


def test_index_query_k_and_metric(mnist5k):
    at = similar_page()
    row = int(np.flatnonzero(mnist5k.labels == 7)[3])
    at.radio(key="similar_source").set_value("Index").run()
    at.number_input(key="similar_index").set_value(row).run()
    assert not at.exception
    assert at.get("image")[0].captions == [f"query: image {row}, label 7"]
    code_ids = neighbour_rows(at)[0]
    assert code_ids == expected_neighbours(mnist5k, "conv-ae-d16", row, 10)
    shown = float(at.metric[0].value)
    assert shown == pytest.approx(np.mean(mnist5k.labels[code_ids] == 7), abs=0.005)

    at.slider(key="similar_k").set_value(5).run()
    assert [len(ids) for ids in neighbour_rows(at)] == [5, 5, 5]
    assert "precision@5" in at.metric[0].label

    at.radio(key="similar_metric").set_value("cosine").run()
    assert not at.exception
    assert neighbour_rows(at)[0] == expected_neighbours(mnist5k, "conv-ae-d16", row, 5, "cosine")
    assert any("cosine distance" in c.value for c in at.caption)


def test_sidebar_choice_reaches_the_page(mnist5k):
    at = similar_page()
    at.selectbox(key="checkpoint").set_value("mlp-ae-d16").run()
    assert not at.exception
    assert at.subheader[0].value.startswith("In mlp-ae d=16")
    assert neighbour_rows(at)[0] == expected_neighbours(mnist5k, "mlp-ae-d16", 9, 10)


def test_uploaded_image_and_a_corrupt_file(mnist5k):
    at = similar_page()
    at.radio(key="similar_source").set_value("Upload an image").run()
    assert any("Upload a picture" in i.value for i in at.info)
    row = int(np.flatnonzero(mnist5k.labels == 3)[0])
    buf = io.BytesIO()
    Image.fromarray((mnist5k.images[row, 0].numpy() * 255).round().astype(np.uint8)).save(buf, "PNG")
    at.file_uploader(key="similar_upload").set_value(("three.png", buf.getvalue(), "image/png")).run()
    assert not at.exception and not at.error
    assert at.get("image")[0].captions == ["query, as the model sees it"]
    assert row in neighbour_rows(at)[2][:1]  # the very same image is the pixel-space nearest, at distance 0
    assert any("Most neighbours are **3**" in c.value for c in at.caption)
    percentiles = [float(m.value) for m in at.metric if "error percentile" in m.label]
    assert len(percentiles) == 2 and all(0 <= p <= 100 for p in percentiles)  # the model's and PCA's
    assert not at.warning  # a held-out digit is well inside what the model represents
    assert len(at.get("plotly_chart")) == 2  # where it lands on both maps
    at.selectbox(key="similar_label").set_value("3").run()
    assert float(next(m for m in at.metric if m.label.startswith("precision")).value) >= 0.8

    at.file_uploader(key="similar_upload").set_value(("broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png")).run()
    assert not at.exception
    assert len(at.error) == 1 and "broken.png: not a readable image" in at.error[0].value


def test_a_photo_crop_is_flagged_as_out_of_distribution():
    from explorer.datasets.generated import load_photos

    crop = load_photos()["astronaut"][100:300, 150:350]  # a face in a space suit: nothing like a digit
    buf = io.BytesIO()
    Image.fromarray(crop).save(buf, "PNG")
    at = similar_page()
    at.radio(key="similar_source").set_value("Upload an image").run()
    at.file_uploader(key="similar_upload").set_value(("photo.png", buf.getvalue(), "image/png")).run()
    assert not at.exception and not at.error
    assert len(at.warning) == 1 and "conv-ae d=16 cannot represent this image" in at.warning[0].value
    model_percentile = next(m for m in at.metric if m.label.startswith("conv-ae d=16: error percentile"))
    assert float(model_percentile.value) == 100.0
    assert any("Out-of-distribution gauge" in c.value and "99th percentile" in c.value for c in at.caption)


def test_draw_asks_for_a_drawing():
    at = similar_page()
    at.radio(key="similar_source").set_value("Draw").run()
    assert not at.exception
    assert any("Draw something" in i.value for i in at.info)


def test_approximate_search_is_built_once_stored_and_reports_its_recall():
    from explorer.checkpoints import checkpoint_root
    from explorer.neighbors import index_path

    at = similar_page()
    at.selectbox(key="similar_method").set_value("approximate").run()
    assert not at.exception
    recalls = [float(c.value.split("search **")[1].split("**")[0]) for c in at.caption if "recall@10" in c.value]
    assert len(recalls) == 2 and all(r >= 0.95 for r in recalls)  # code and PCA space; pixels stay exact
    for name in ("conv-ae-d16", "pca-d16"):  # stored beside each checkpoint: the next page open reads it
        assert index_path(checkpoint_root() / "mnist5k" / name, "euclidean").is_file()
