"""Exports read back: tables round-trip, Projector files parse, the map files are real HTML / PNG."""

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from explorer import export
from explorer.errors import ExplorerError


@pytest.fixture(scope="module")
def codes(digits):
    rng = np.random.default_rng(0)
    return rng.normal(size=(len(digits), 5)).astype(np.float32)  # (N, d)


@pytest.fixture(scope="module")
def frame(codes, digits):
    return export.codes_frame(codes, digits)


def test_codes_frame_columns(frame, digits, codes):
    assert list(frame.columns[:4]) == ["index", "split", "label", "class"]
    assert [c for c in frame.columns if c.startswith("z")] == [f"z{j}" for j in range(5)]
    assert (frame["split"] == "held-out").sum() == len(digits.test_idx)
    np.testing.assert_array_equal(frame["label"], digits.labels)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_table_round_trip(frame, fmt, tmp_path):
    data = export.table_bytes(frame, fmt)
    back = pd.read_csv(io.BytesIO(data), dtype={"class": str}) if fmt == "csv" else pd.read_parquet(io.BytesIO(data))
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
    np.testing.assert_allclose(back.filter(like="z").to_numpy(), frame.filter(like="z").to_numpy(), rtol=1e-6)
    assert (back["split"] == frame["split"]).all() and (back["class"] == frame["class"]).all()
    path = export.write_table(frame, tmp_path / f"codes.{fmt}")
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == [f"codes.{fmt}"]  # no temporary file left behind


def test_bad_table_format(frame, tmp_path):
    with pytest.raises(ExplorerError, match="csv or parquet"):
        export.table_bytes(frame, "xlsx")
    with pytest.raises(ExplorerError, match="no such folder"):
        export.write_table(frame, tmp_path / "missing" / "codes.csv")


def test_projector_files_parse_back(codes, frame, digits):
    n = 300
    images = digits.images[:n].numpy()
    files = export.projector_files(codes[:n], frame.iloc[:n], images)
    tensors = np.loadtxt(io.StringIO(files["tensors.tsv"].decode()), delimiter="\t")
    assert tensors.shape == (n, 5)
    np.testing.assert_allclose(tensors, codes[:n], rtol=1e-5, atol=1e-6)
    meta = pd.read_csv(io.BytesIO(files["metadata.tsv"]), sep="\t", dtype={"class": str})
    assert len(meta) == n and list(meta["index"]) == list(range(n))  # one header row, then one row per point
    assert list(meta["label"]) == list(digits.labels[:n])
    sprite = np.asarray(Image.open(io.BytesIO(files["sprite.png"])))
    side = int(np.ceil(np.sqrt(n)))  # 18 x 18 tiles of 8 x 8
    assert sprite.shape == (side * 8, side * 8)
    for i in (0, 1, side, n - 1):  # tile i (row-major) is image i
        r, c = divmod(i, side)
        np.testing.assert_allclose(sprite[r * 8:(r + 1) * 8, c * 8:(c + 1) * 8] / 255, images[i, 0], atol=1 / 255)
    config = files["projector_config.pbtxt"].decode()
    assert 'tensor_path: "tensors.tsv"' in config and config.count("single_image_dim: 8") == 2


def test_projector_zip_holds_the_four_files(codes, frame, digits):
    data = export.projector_zip(codes[:50], frame.iloc[:50], digits.images[:50].numpy())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == ["metadata.tsv", "projector_config.pbtxt", "sprite.png", "tensors.tsv"]
        assert len(zf.read("tensors.tsv").decode().strip().splitlines()) == 50


def test_projector_sprite_limit():
    assert export.projector_limit((1, 28, 28)) == (8192 // 28) ** 2  # 85,264: all 70,000 MNIST digits fit
    n = export.projector_limit((1, 64, 64)) + 1
    with pytest.raises(ExplorerError, match="8192"):
        export.projector_zip(np.zeros((n, 2), np.float32), pd.DataFrame({"index": range(n)}),
                             np.zeros((n, 1, 64, 64), np.float32))


def test_map_points_direct_and_pca(codes, tmp_path):
    two = codes[:, :2]
    points, method = export.map_points(two)
    assert method == "direct"
    np.testing.assert_allclose(points, two)
    points, method = export.map_points(codes, tmp_path)
    assert method == "pca" and points.shape == (len(codes), 2)
    # PCA's defining property: the two axes are uncorrelated and the first carries the most variance.
    cov = np.cov(points.T)
    assert abs(cov[0, 1]) < 1e-3 * cov[0, 0] and cov[0, 0] >= cov[1, 1]
    top2 = np.linalg.eigvalsh(np.cov(codes.T))[::-1][:2]
    np.testing.assert_allclose(np.diag(cov), top2, rtol=1e-3)


def test_map_html_and_png(codes, frame):
    points = codes[:, :2]
    html = export.map_html(points, frame, "digits test map").decode()
    assert "<html>" in html[:100] and html.rstrip().endswith("</html>") and "digits test map" in html
    assert len(html) > 1_000_000 and "src=\"https://cdn.plot.ly" not in html  # plotly.js inlined: opens offline
    fig = export.map_figure(points, frame, "t")
    assert len(fig.data) == 10 and sum(len(t.x) for t in fig.data) == len(points)  # a trace per class
    png = export.map_png(points, frame, "digits test map")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(png))
    assert img.size == (7 * 150, 6 * 150)
    assert np.asarray(img.convert("L")).std() > 5  # something was drawn


def test_a_map_of_many_points_is_exported_as_their_density():
    from explorer.mapplot import DENSITY_ABOVE

    n = DENSITY_ABOVE * 2
    rng = np.random.default_rng(0)
    points = rng.normal(size=(n, 2)).astype(np.float32)
    frame = pd.DataFrame({"index": np.arange(n), "class": rng.choice(["cat", "dog"], n)})
    fig = export.map_figure(points, frame, "big")
    assert len(fig.layout.images) == 1 and all(t.x == (None,) for t in fig.data)  # no point per image
    assert sorted(t.name for t in fig.data) == ["cat", "dog"]
    assert len(export.map_html(points, frame, "big")) < 8_000_000  # plotly.js itself is about 5 MB
    png = Image.open(io.BytesIO(export.map_png(points, frame, "big")))
    assert png.size[0] > 500 and np.asarray(png.convert("L")).std() > 10  # a drawn picture, not a blank one
