"""Checkpoints: safetensors + JSON, atomic, never unpickled, clear errors."""

import json

import pytest
import torch

from explorer.checkpoints import check_name, list_checkpoints, load_checkpoint, read_config, save_checkpoint
from explorer.errors import ExplorerError
from explorer.models import ModelConfig, build_model


def _model():
    return build_model(ModelConfig("mlp-ae", (1, 8, 8), 3, hidden=(16,)))


def test_files_are_safetensors_and_json(tmp_path):
    path = save_checkpoint(_model(), tmp_path / "digits" / "mlp-ae-d3", {"dataset": "digits", "metrics": {"recon_sse": 1.5}})
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
