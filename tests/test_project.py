"""2-D projections: shapes, the defining property of each method, stored once on disk and reloaded."""

import numpy as np
import pytest
import torch

from explorer import project as P
from explorer.checkpoints import Checkpoint, save_checkpoint
from explorer.errors import ExplorerError
from explorer.models import ModelConfig, build_model
from explorer.project import Projection, baseline_points, map_metrics, methods_for, projection_path


@pytest.fixture(scope="module")
def pixels(digits):
    return digits.images[:].flatten(1).numpy()  # (1797, 64)


@pytest.fixture(autouse=True)
def fresh_memory():
    P._MEMORY.clear()
    yield
    P._MEMORY.clear()


def test_pca_map_is_the_top_two_principal_components(pixels):
    from sklearn.decomposition import PCA

    proj = Projection("pca").fit(pixels)
    assert proj.points_.shape == (len(pixels), 2) and proj.points_.dtype == np.float32
    ref = PCA(2).fit_transform(pixels)
    for j in range(2):  # same axes up to sign
        assert abs(np.corrcoef(proj.points_[:, j], ref[:, j])[0, 1]) > 0.9999
    var = proj.points_.var(0)
    assert var[0] >= var[1]
    np.testing.assert_allclose(proj.components_ @ proj.components_.T, np.eye(2), atol=1e-5)


def test_methods_for_d():
    assert methods_for(2) == ["direct", "pca", "umap", "tsne"]
    assert "direct" not in methods_for(16)


def test_bad_input():
    with pytest.raises(ExplorerError):
        Projection("isomap")
    with pytest.raises(ExplorerError):
        Projection("direct").fit(np.zeros((10, 5)))
    with pytest.raises(ExplorerError):
        Projection("pca").fit(np.zeros((2, 5)))


@pytest.mark.slow
def test_tsne_keeps_classes_together(digits, pixels):
    sub = np.arange(0, len(pixels), 6)  # 300 digits keep it to seconds
    proj = Projection("tsne").fit(pixels[sub])
    from explorer.metrics import leave_one_out_precision

    assert proj.points_.shape == (len(sub), 2)
    # t-SNE's purpose: neighbours on the map share the label far more often than chance (0.1)
    assert leave_one_out_precision(proj.points_, digits.labels[sub], k=5) > 0.85
    z = proj.inverse_transform(proj.points_[:3])
    np.testing.assert_allclose(z, pixels[sub][:3], atol=1e-6)


def test_projection_is_written_once_and_reloaded(tmp_path, pixels, monkeypatch):
    first = P.project(pixels, "pca", tmp_path)
    path = projection_path(tmp_path, "pca")
    assert path.is_file()
    with np.load(path, allow_pickle=False) as f:  # plain arrays, no pickles
        assert f["points"].dtype == np.float32 and f["points"].shape == (len(pixels), 2)
        assert str(f["method"]) == "pca"
    stamp = path.stat().st_mtime_ns
    P._MEMORY.clear()
    monkeypatch.setattr(Projection, "fit", lambda self, codes: pytest.fail("refitted instead of loading"))
    again = P.project(pixels, "pca", tmp_path)
    assert path.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(again.points_, first.points_)
    np.testing.assert_allclose(again.inverse_transform([[1.0, 2.0]]), first.inverse_transform([[1.0, 2.0]]), atol=1e-6)
    assert P.project(pixels, "pca", tmp_path) is again  # then from memory
    assert not list(tmp_path.glob("projections/.*"))  # no temp files left behind


def test_stale_or_corrupt_projection_is_recomputed(tmp_path, pixels):
    P.project(pixels, "pca", tmp_path)
    P._MEMORY.clear()
    other = pixels[::-1].copy()
    with pytest.raises(ExplorerError, match="other codes"):
        Projection.load(projection_path(tmp_path, "pca"), other)
    proj = P.project(other, "pca", tmp_path)  # made from other codes: refitted and overwritten
    assert Projection.load(projection_path(tmp_path, "pca"), other).fingerprint_ == proj.fingerprint_
    projection_path(tmp_path, "pca").write_bytes(b"not a zip")
    P._MEMORY.clear()
    with pytest.raises(ExplorerError, match="unreadable"):
        Projection.load(projection_path(tmp_path, "pca"), other)
    assert P.project(other, "pca", tmp_path).points_.shape == (len(other), 2)


def test_baseline_points_are_pca_at_d2(digits):
    models = {}
    for d in (2, 16):
        models[d] = build_model(ModelConfig("pca", digits.image_shape, d)).fit(digits.x_train)
    with torch.no_grad():
        z16, z2 = (models[d].encode(digits.images[:]).numpy() for d in (16, 2))
    np.testing.assert_allclose(np.abs(baseline_points(z16)), np.abs(z2), atol=1e-3)
    with pytest.raises(ExplorerError):
        baseline_points(z16[:, :1])


def test_map_metrics_on_real_digits(digits, pixels):
    pca = map_metrics(Projection("pca").fit(pixels).points_, digits)
    rand = map_metrics(np.random.default_rng(0).normal(size=(len(pixels), 2)), digits)
    assert 0.5 < pca["knn_acc"] < 0.8 and rand["knn_acc"] < 0.2  # PCA in 2-D separates digits partly
    assert pca["trustworthiness"] > 0.75 and rand["trustworthiness"] < 0.6


@pytest.mark.slow
def test_umap_map_beats_pca_and_is_precomputed_beside_a_checkpoint(tmp_path, digits):
    model = build_model(ModelConfig("pca", digits.image_shape, 16)).fit(digits.x_train)
    path = save_checkpoint(model, tmp_path / "pca-d16", {"dataset": "digits", "dataset_options": {}})
    done = Checkpoint(path).store_maps(digits, methods=("pca", "umap"))
    assert set(done) == {"pca", "umap"} and all(p.is_file() for p in done.values())
    assert all(p.stat().st_size < 40_000 for p in done.values())  # float32 points only: small
    codes = model.encode(digits.images[:]).detach().numpy()
    umap_map = Projection.load(done["umap"], codes)
    assert not umap_map.is_linear
    u, p = map_metrics(umap_map.points_, digits), map_metrics(Projection.load(done["pca"], codes).points_, digits)
    assert u["knn_acc"] > 0.9 and u["knn_acc"] > p["knn_acc"] + 0.2  # UMAP separates the ten digits
    # the fast inverse returns a data point's own code
    np.testing.assert_allclose(umap_map.inverse_transform(umap_map.points_[:2]), codes[:2], atol=1e-5)


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_a_large_set_is_fitted_on_a_sample_and_the_rest_placed_among_their_kind(tmp_path, digits, pixels,
                                                                              monkeypatch, method):
    monkeypatch.setitem(P.FIT_SAMPLE, method, 600)  # 600 of the 1,797 digits fitted, 1,197 placed
    calls = []
    proj = Projection(method).fit(pixels, progress=lambda done, total: calls.append((done, total)))
    fitted = proj.fitted_rows_
    assert len(fitted) == 600 and len(np.unique(fitted)) == 600 and proj.points_.shape == (len(pixels), 2)
    assert calls[0] == (600, len(pixels)) and calls[-1] == (len(pixels), len(pixels))
    placed = np.setdiff1d(np.arange(len(pixels)), fitted)
    # a placed digit lands among fitted digits of its own class, nearly as often as fitted ones do
    from explorer.metrics import knn_accuracy

    acc = knn_accuracy(proj.points_[fitted], digits.labels[fitted], proj.points_[placed], digits.labels[placed])
    assert acc > 0.85
    proj.save(tmp_path / "map.npz")
    again = Projection.load(tmp_path / "map.npz", pixels)
    np.testing.assert_array_equal(again.fitted_rows_, fitted)
    np.testing.assert_array_equal(again.points_, proj.points_)


def test_time_estimates_grow_with_the_set_and_the_sample_caps_the_fit():
    assert P.estimated_seconds("pca", 1_000_000) < 5
    assert P.estimated_seconds("umap", 5_000) < P.estimated_seconds("umap", 50_000) < P.estimated_seconds("umap", 10**6)
    fit_only = P.estimated_seconds("tsne", P.FIT_SAMPLE["tsne"])
    assert P.estimated_seconds("tsne", 10**6) - fit_only < fit_only * 2  # placing is cheap next to fitting
