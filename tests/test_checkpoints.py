"""Checkpoints: safetensors + JSON, atomic, never unpickled, clear errors."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from explorer.checkpoints import (
    Checkpoint,
    check_name,
    files_stamp,
    list_checkpoints,
    load_checkpoint,
    read_config,
    save_checkpoint,
)
from explorer.errors import ExplorerError
from explorer.models import ModelConfig, build_model


def _model():
    return build_model(ModelConfig("mlp-ae", (1, 8, 8), 3, hidden=(16,)))


def test_files_are_safetensors_and_json(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "digits" / "mlp-ae-d3",
                           {"dataset": "digits", "metrics": {"recon_sse": 1.5}})
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((path / "config.json").read_text())
    assert config["model"]["family"] == "mlp-ae" and config["metrics"]["recon_sse"] == 1.5
    assert "torch" in config["versions"]
    assert list_checkpoints(tmp_path) == [path]


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "digits" / "mlp-ae-d3"
    save_checkpoint(_model(), target, {"dataset": "digits", "tag": "old"})

    def boom(*a, **k):
        raise KeyboardInterrupt  # a run killed half-way through writing the weights

    monkeypatch.setattr("explorer.checkpoints.save_file", boom)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(_model(), target, {"dataset": "digits", "tag": "new"})
    assert read_config(target)["tag"] == "old"  # the old checkpoint is intact
    assert [p.name for p in target.parent.iterdir()] == ["mlp-ae-d3"]  # no temporary folder left


def test_wrong_image_shape_is_a_clear_error(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m-d3")
    with pytest.raises(ExplorerError, match=r"shape \(1, 8, 8\).*\(1, 28, 28\)"):
        load_checkpoint(path, (1, 28, 28))


def test_corrupt_files_are_clear_errors(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m-d3")
    (path / "model.safetensors").write_bytes(b"\x80\x04garbage that is not safetensors")
    with pytest.raises(ExplorerError, match="corrupt"):
        load_checkpoint(path)
    (path / "config.json").write_text("{not json")
    with pytest.raises(ExplorerError, match="corrupt"):
        load_checkpoint(path)
    with pytest.raises(ExplorerError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "nothing-here")


def test_a_pickle_is_never_loaded(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m-d3")
    torch.save(_model().state_dict(), path / "model.safetensors")  # a pickled state dict in disguise
    with pytest.raises(ExplorerError, match="corrupt"):
        load_checkpoint(path)


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden", "a\\b"])
def test_names_with_path_separators_are_rejected(name):
    with pytest.raises(ExplorerError, match="invalid checkpoint name"):
        check_name(name)


# ---- Checkpoint: one handle per checkpoint folder ------------------------------------------------------------

def _digits_checkpoint(root, digits, family="mlp-ae", dim=3, **extra):
    """A checkpoint on digits as explorer.pipeline saves one (dataset, options, split, fitted_on), untrained."""
    from explorer.pipeline import dataset_meta

    model = build_model(ModelConfig(family, digits.image_shape, dim, **({"hidden": (16,)} if family == "mlp-ae"
                                                                          else {})))
    if family == "pca":
        model.fit(digits.x_train)
    meta = {**dataset_meta(digits, "digits", validated=family != "pca"), **extra}
    return save_checkpoint(model, root / "digits" / f"{family}-d{dim}", meta)


def _count_reads(monkeypatch):
    import explorer.checkpoints as C

    reads = []
    real = C.read_config
    monkeypatch.setattr(C, "read_config", lambda path: reads.append(Path(path).name) or real(path))
    return reads


def test_a_checkpoint_reads_its_config_once_and_knows_its_dataset(tmp_path, digits, monkeypatch):
    path = _digits_checkpoint(tmp_path, digits)
    reads = _count_reads(monkeypatch)
    ckpt = Checkpoint(path)
    assert (ckpt.name, ckpt.family, ckpt.dim, ckpt.spec, ckpt.dataset_options) == ("mlp-ae-d3", "mlp-ae", 3,
                                                                                   "digits", (None, "gray"))
    dataset = ckpt.load_dataset()
    model = ckpt.load_model(dataset.image_shape)
    assert ckpt.fitted_on["images"] == digits.fingerprint and ckpt.fitted_on["n_train"] == 1437
    assert len(dataset) == 1797 and model.dim == 3 and not model.training
    codes = ckpt.codes(model, dataset)  # computed once and stored beside it
    assert codes.shape == (1797, 3) and ckpt.codes_path.is_file()
    assert ckpt.map_path("umap") == path / "projections" / "umap.npz" and ckpt.stored_maps == []
    assert ckpt.index_path("cosine") == path / "neighbors" / "cosine.npz"
    ckpt.map_path("umap").parent.mkdir()
    for name in ("umap.npz", "pca.npz", ".umap.tmp.npz", "notes.npz"):  # a temporary file and an unknown method
        (ckpt.map_path("umap").parent / name).write_bytes(b"")
    assert ckpt.stored_maps == ["pca", "umap"]  # in MAP_METHODS order
    assert reads == ["mlp-ae-d3"]  # one read of config.json, whatever was asked


def test_the_pca_baseline_is_the_one_recorded_at_save_time(tmp_path, digits):
    from explorer.pipeline import ensure_pca

    ae = _digits_checkpoint(tmp_path, digits, pca_checkpoint="baseline-d3")  # any name: recorded, not formatted
    assert Checkpoint(ae).pca() is None  # recorded, but not there
    _digits_checkpoint(tmp_path, digits, family="pca")  # a pca-d3 that the AE did not record is not its baseline
    assert Checkpoint(ae).pca_path is None
    from explorer.pipeline import dataset_meta

    ensure_pca(digits, tmp_path / "digits" / "baseline-d3", 3, dataset_meta(digits, "digits"))
    ckpt = Checkpoint(ae)
    assert ckpt.pca_path == tmp_path / "digits" / "baseline-d3" and ckpt.pca() is ckpt.pca()  # read once
    baseline = ckpt.pca()
    assert baseline.family == "pca" and baseline.config["pca_checkpoint"] == "baseline-d3"  # it records itself
    assert baseline.pca() is baseline
    unrecorded = _digits_checkpoint(tmp_path, digits, family="vae")
    assert Checkpoint(unrecorded).pca() is None


def test_a_baseline_fitted_on_other_data_is_not_the_checkpoints(tmp_path, digits):
    from explorer.pipeline import data_record

    ae = _digits_checkpoint(tmp_path, digits, pca_checkpoint="pca-d3")
    other = data_record(replace(digits, fingerprint="digits:edited"), "digits")
    _digits_checkpoint(tmp_path, digits, family="pca", fitted_on=other)
    assert Checkpoint(ae).pca() is None


def test_shipped_configs_keep_loading_with_their_baselines(checkpoint_copy):
    conv = Checkpoint(checkpoint_copy / "mnist5k" / "conv-ae-d16")  # written before fitted_on was recorded
    assert conv.pca_path == checkpoint_copy / "mnist5k" / "pca-d16"
    sprites_pca = Checkpoint(checkpoint_copy / "sprites" / "pca-d10")  # a baseline that never recorded itself
    assert sprites_pca.pca() is sprites_pca
    assert Checkpoint(checkpoint_copy / "sprites" / "vae-d10").pca_path == sprites_pca.path


def test_the_stamp_changes_when_the_weights_do(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m-d3", {"dataset": "digits"})
    before = files_stamp(path)
    assert Checkpoint(path).stamp == before == files_stamp(path)  # stable while nothing changes
    save_checkpoint(_model(), path, {"dataset": "digits"})  # retrained at once: same size, maybe the same tick
    assert files_stamp(path) != before and Checkpoint(path).stamp == files_stamp(path)


def test_a_corrupt_config_is_one_line(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "m-d3")
    for text in ("{not json", json.dumps({"dataset": "digits"})):  # unreadable, then without a model
        (path / "config.json").write_text(text)
        with pytest.raises(ExplorerError, match="corrupt checkpoint config") as err:
            Checkpoint(path)
        assert "\n" not in str(err.value)
    with pytest.raises(ExplorerError, match="not a checkpoint"):
        Checkpoint(tmp_path / "nothing-here")
    bare = Checkpoint(save_checkpoint(_model(), tmp_path / "bare-d3"))  # saved with no dataset
    with pytest.raises(ExplorerError, match="records no dataset"):
        bare.load_dataset()


def test_ensure_pca_reuses_a_baseline_of_the_same_data_and_refits_a_stale_one(tmp_path, digits, monkeypatch):
    import explorer.pipeline as P

    path = tmp_path / "digits" / "pca-d3"
    meta = P.dataset_meta(digits, "digits")
    _, first, _ = P.ensure_pca(digits, path, 3, meta)
    stamp = files_stamp(path)
    fits = []
    real_fit = P.fit_pca
    monkeypatch.setattr(P, "fit_pca", lambda ds, dim: fits.append(ds.fingerprint) or real_fit(ds, dim))
    _, again, _ = P.ensure_pca(digits, path, 3, meta)
    assert fits == [] and files_stamp(path) == stamp and again == first  # the same data: reused as it is
    edited = replace(digits, fingerprint="digits:edited", pixels=digits.pixels.flip(-1))  # other images
    P.ensure_pca(edited, path, 3, P.dataset_meta(edited, "digits"))
    assert fits == ["digits:edited"] and files_stamp(path) != stamp  # refitted and stored in its place
    assert Checkpoint(path).fitted_on["images"] == "digits:edited"
    P.ensure_pca(edited, path, 3, P.dataset_meta(edited, "digits", image_size=8))  # other options: refitted
    assert len(fits) == 2 and Checkpoint(path).dataset_options == (8, "gray")


def test_evaluate_reads_the_stored_baseline_and_says_when_it_fits_one(tmp_path, digits, monkeypatch, capsys):
    import explorer.pipeline as P
    from explorer.cli import main

    ae = _digits_checkpoint(tmp_path, digits, pca_checkpoint="pca-d3")
    P.ensure_pca(digits, tmp_path / "digits" / "pca-d3", 3, P.dataset_meta(digits, "digits"))
    stored_sse = Checkpoint(tmp_path / "digits" / "pca-d3").metrics["recon_sse"]
    real_fit = P.fit_pca
    monkeypatch.setattr(P, "fit_pca", lambda *a: pytest.fail("refitted PCA although one is stored"))
    assert main(["evaluate", str(ae), "--json"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out)
    assert result["pca_checkpoint"] == str(tmp_path / "digits" / "pca-d3") and "note:" not in out.err
    assert result["pca_recon_sse"] == pytest.approx(stored_sse, rel=1e-5)  # the stored baseline, scored again
    monkeypatch.setattr(P, "fit_pca", real_fit)
    (tmp_path / "digits" / "pca-d3" / "config.json").unlink()  # the baseline is gone: fitted now, and said
    assert main(["evaluate", str(ae), "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["pca_checkpoint"] is None
    assert json.loads(out.out)["pca_recon_sse"] == pytest.approx(stored_sse, rel=1e-4)  # the same PCA, refitted
    assert "no stored PCA baseline" in out.err and "fitted PCA at d=3 now" in out.err


def test_the_sidebar_scan_reads_each_config_once(tmp_path, digits, monkeypatch):
    from explorer.ui import state

    _digits_checkpoint(tmp_path, digits)
    _digits_checkpoint(tmp_path, digits, family="pca")
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path))
    state.cached_checkpoint.clear()
    reads = _count_reads(monkeypatch)
    for _ in range(3):  # three reruns
        groups = state.checkpoints_by_dataset()
    assert {p.name for p in groups["digits"]} == {"mlp-ae-d3", "pca-d3"}
    assert sorted(reads) == ["mlp-ae-d3", "pca-d3"]
    save_checkpoint(_model(), tmp_path / "digits" / "mlp-ae-d3", {"dataset": "digits"})  # retrained
    state.checkpoints_by_dataset()
    assert sorted(reads) == ["mlp-ae-d3", "mlp-ae-d3", "pca-d3"]  # only the changed one is read again
