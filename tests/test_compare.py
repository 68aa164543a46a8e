"""The Compare page's numbers: PCA's curve over d is exact, and the checkpoint table reads what training stored."""

import json

import numpy as np
import pytest
from sklearn.decomposition import PCA

from explorer import compare
from explorer.checkpoints import checkpoints_by_dataset
from explorer.evaluate import encode_all, reconstruct
from explorer.metrics import knn_accuracy, recon_sse
from explorer.pipeline import fit_pca, train_checkpoint
from explorer.train import TrainConfig


@pytest.fixture(scope="module")
def curve(digits):
    return compare.pca_curve(digits, knn_dims=(2, 8))


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory, digits):
    """A checkpoint root with mlp-ae d2 and vae d2 on digits (PCA d2 beside them) and one corrupt folder."""
    root = tmp_path_factory.mktemp("ckpts")
    config = TrainConfig(epochs=3, batch_size=64)
    for family in ("mlp-ae", "vae"):
        train_checkpoint("digits", family, 2, config, root=root, dataset=digits)
    (root / "digits" / "broken-d3").mkdir()
    (root / "digits" / "broken-d3" / "config.json").write_text("{not json")
    return root


def test_pca_curve_is_exact_truncation(digits, curve):
    """Truncating the max-d fit gives the same error as PCA fitted at each d (components are nested)."""
    for d in (1, 2, 5, 20):
        pca = fit_pca(digits, d)
        expected = recon_sse(reconstruct(pca, digits.x_test), digits.x_test)
        assert curve.loc[d - 1, "recon_sse"] == pytest.approx(expected, rel=1e-4)
    assert list(curve["dim"]) == list(range(1, len(curve) + 1))
    assert len(curve) <= 64  # never more axes than 8 x 8 pixels


def test_pca_curve_monotone_and_bounded(digits, curve):
    sse = curve["recon_sse"].to_numpy()
    assert np.all(np.diff(sse) <= 1e-9)  # more components never hurt
    ev = curve["explained_variance"].to_numpy()
    assert np.all((ev > 0) & (ev <= 1 + 1e-9)) and np.all(np.diff(ev) >= -1e-9)
    # Held-out error at the largest d is a small fraction of the error at d = 0.
    assert sse[-1] < 0.05 * compare.heldout_total_sse(digits)
    assert ev[-1] > 0.95


def test_train_explained_variance_matches_sklearn(digits, curve):
    ratio = PCA(n_components=10).fit(digits.x_train.flatten(1).double().numpy()).explained_variance_ratio_
    np.testing.assert_allclose(curve["train_explained_variance"][:10], np.cumsum(ratio), rtol=1e-6)


def test_pca_curve_knn_only_where_asked(digits, curve):
    measured = curve.dropna(subset=["knn_acc"])
    assert list(measured["dim"]) == [2, 8]
    pca = fit_pca(digits, 8)
    z_train, z_test = encode_all(pca, digits.x_train).numpy(), encode_all(pca, digits.x_test).numpy()
    expected = knn_accuracy(z_train, digits.y_train, z_test, digits.y_test)
    assert curve.loc[7, "knn_acc"] == pytest.approx(expected, abs=0.01)
    assert 0.85 < curve.loc[7, "knn_acc"] <= 1  # 8 principal components already separate digits well
    assert curve.loc[7, "trustworthiness"] > curve.loc[1, "trustworthiness"]


def test_checkpoint_table_reads_stored_metrics(trained_root, digits):
    total = compare.heldout_total_sse(digits)
    table = compare.checkpoint_table(checkpoints_by_dataset(trained_root)["digits"], total_sse=total)
    assert set(table["checkpoint"]) == {"pca-d2", "mlp-ae-d2", "vae-d2"}  # the corrupt folder is skipped
    assert list(table["family"]) == ["pca", "mlp-ae", "vae"]  # registry order
    for row in table.itertuples():
        stored = json.loads((trained_root / "digits" / row.checkpoint / "config.json").read_text())
        assert row.recon_sse == pytest.approx(stored["metrics"]["recon_sse"])
        assert row.pca_recon_sse == pytest.approx(stored["pca_metrics"]["recon_sse"])
        assert row.error_vs_pca == pytest.approx(row.recon_sse / row.pca_recon_sse)
        assert row.explained_variance == pytest.approx(1 - row.recon_sse / total)
    pca_row = table[table["family"] == "pca"].iloc[0]
    assert pca_row.error_vs_pca == pytest.approx(1.0)
    assert np.isfinite(table.loc[table["family"] == "vae", "elbo"]).all()
    assert compare.checkpoint_table(checkpoints_by_dataset(trained_root).get("mnist5k", [])).empty
    assert compare.checkpoint_table(checkpoints_by_dataset(trained_root)["digits"], image_shape=(1, 28, 28)).empty


def test_pca_checkpoint_lies_on_the_curve(trained_root, digits, curve):
    table = compare.checkpoint_table(checkpoints_by_dataset(trained_root)["digits"])
    pca_sse = table.loc[table["checkpoint"] == "pca-d2", "recon_sse"].item()
    assert pca_sse == pytest.approx(curve.loc[1, "recon_sse"], rel=1e-4)


def test_metric_figure_has_pca_curve_and_a_line_per_family(trained_root, curve):
    table = compare.checkpoint_table(checkpoints_by_dataset(trained_root)["digits"])
    fig = compare.metric_figure(curve, table, "recon_sse")
    names = [t.name for t in fig.data]
    assert names == ["PCA (curve)", "mlp-ae", "vae"]
    assert len(fig.data[0].x) == len(curve)
    assert list(fig.data[1].x) == [2] and fig.data[1].y[0] == pytest.approx(
        table.loc[table["family"] == "mlp-ae", "recon_sse"].item())
    knn = compare.metric_figure(curve, table, "knn_acc")
    assert list(knn.data[0].x) == [2, 8]  # PCA only where measured


def test_reconstructions_same_images_each_model(digits):
    x = digits.x_test[:6]
    out = compare.reconstructions({"pca-2": fit_pca(digits, 2), "pca-40": fit_pca(digits, 40)}, x)
    assert out["pca-2"][0].shape == x.shape
    assert out["pca-40"][1] < out["pca-2"][1]  # more components, smaller error on the same images
