"""The CLI end to end on digits, in seconds, through main() (and `python -m explorer` once); bad input is one line
and a non-zero exit."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from explorer.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    out = root / "digits" / "mlp-ae-d4"
    assert main(["train", "--dataset", "digits", "--model", "mlp-ae", "--dim", "4", "--steps", "600",
                 "--out", str(out)]) == 0
    return root, out


def test_train_writes_a_checkpoint_with_pca_beside(trained):
    root, out = trained
    assert (out / "model.safetensors").is_file()
    assert (out.parent / "pca-d4" / "model.safetensors").is_file()


def test_evaluate_json_has_both_sides(trained, capsys):
    _, out = trained
    assert main(["evaluate", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("recon_sse", "pca_recon_sse", "knn_acc", "pca_knn_acc", "trustworthiness"):
        assert isinstance(result[key], float)
    assert result["recon_sse"] < result["pca_recon_sse"]  # the trained MLP beats PCA at d = 4
    assert result["beats_pca"] is True
    assert result["knn_acc"] > 0.6


def test_config_records_the_three_splits_and_the_budget(trained):
    _, out = trained
    config = json.loads((out / "config.json").read_text())
    split = config["split"]
    # 1,437 training digits cut 9:1
    assert (split["n_train"], split["n_validation"], split["n_test"]) == (1293, 144, 360)
    assert config["train"]["steps"] == 600 and config["train"]["history"][-1]["step"] == 600
    assert config["model"]["loss"] in ("bernoulli", "gaussian") and config["beats_pca"] is True
    assert config["pca_checkpoint"] == "pca-d4"
    pca_split = json.loads((out.parent / "pca-d4" / "config.json").read_text())["split"]
    assert (pca_split["n_train"], pca_split["n_validation"]) == (1437, 0)  # PCA chooses nothing: all training digits


def test_default_budget_and_loss_are_stated(tmp_path, capsys):
    out = tmp_path / "digits" / "linear-ae-d2"
    assert main(["train", "--dataset", "digits", "--model", "linear-ae", "--dim", "2", "--lr", "1e-9",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "3,000 steps of batch 64" in err and "(the default for this data size)" in err
    assert "likelihood" in err and "validation images" in err
    # an untrained model (lr 1e-9) is far worse than PCA: said in one plain line, and in evaluate --json
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "worse than PCA" in warnings[0]
    assert main(["evaluate", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["beats_pca"] is False


def test_embed_csv_and_parquet(trained, tmp_path):
    _, out = trained
    for suffix in ("csv", "parquet"):
        target = tmp_path / f"codes.{suffix}"
        assert main(["embed", str(out), "--out", str(target)]) == 0
        frame = pd.read_csv(target) if suffix == "csv" else pd.read_parquet(target)
        assert len(frame) == 1797 and {"z0", "z3", "label", "split"} <= set(frame.columns)


def test_list_json(trained, capsys):
    root, out = trained
    assert main(["list", "--json", "--root", str(root)]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert "mnist5k" in listing["datasets"] and "vae" in listing["models"]
    assert {c["path"] for c in listing["checkpoints"]} == {str(out), str(root / "digits" / "pca-d4")}


@pytest.mark.parametrize("args,message", [
    (["train", "--dataset", "nope"], "unknown dataset"),
    (["train", "--dataset", "folder:/does/not/exist"], "no such file"),
    (["train", "--dataset", "digits", "--dim", "0"], "must be positive"),
    (["train", "--dataset", "digits", "--steps", "0"], "must be positive"),
    (["evaluate", "/does/not/exist"], "not a checkpoint"),
    (["embed", "/does/not/exist", "--out", "x.csv"], "not a checkpoint"),
])
def test_bad_input_is_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_embed_to_a_bad_suffix(trained, capsys):
    _, out = trained
    assert main(["embed", str(out), "--out", "codes.txt"]) == 2
    assert "must end in .csv or .parquet" in capsys.readouterr().err


def test_kill_9_during_training_leaves_no_checkpoint_and_a_rerun_succeeds(tmp_path):
    out = tmp_path / "digits" / "mlp-ae-d2"
    cmd = [sys.executable, "-m", "explorer", "train", "--dataset", "digits", "--model", "mlp-ae", "--dim", "2",
           "--steps", "100000", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # the budget line comes just before the first step
        if "steps of batch" in line:
            break
    time.sleep(2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    leftovers = [p.name for p in (tmp_path / "digits").iterdir()] if (tmp_path / "digits").exists() else []
    assert not out.exists() and not [n for n in leftovers if not n.startswith(".")], leftovers
    # the suite's one run of `python -m explorer` to the end: the other tests call main() in this process
    rerun = subprocess.run(cmd[:-4] + ["--steps", "50", "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert rerun.returncode == 0, rerun.stderr
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()


def test_train_stores_the_pca_map_and_maps_adds_a_sampled_tsne(trained, capsys, monkeypatch):
    from explorer import project as P

    _, out = trained
    assert (out / "projections" / "pca.npz").is_file()  # stored at training time: the pages open on it
    monkeypatch.setitem(P.FIT_SAMPLE, "tsne", 500)  # t-SNE of 500 digits, the other 1,297 placed on it
    assert main(["maps", str(out), "--method", "tsne", "--method", "pca"]) == 0
    printed = capsys.readouterr()
    assert "t-SNE of 1,797 codes, fitted on 500 sampled codes: about" in printed.err  # said before it starts
    assert "stored the t-SNE map of 1,797 codes" in printed.out
    assert "PCA map of 1,797 codes: already stored" in printed.out
    import numpy as np

    with np.load(out / "projections" / "tsne.npz", allow_pickle=False) as f:
        assert f["points"].shape == (1797, 2) and len(f["fitted"]) == 500


def test_a_pca_map_of_one_dimensional_codes_is_refused_in_one_line(tmp_path, capsys):
    out = tmp_path / "digits" / "pca-d1"
    assert main(["train", "--dataset", "digits", "--model", "pca", "--dim", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["maps", str(out), "--method", "pca"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "needs codes with at least 2 dimensions" in err[-1] and not any("Traceback" in line for line in err)
    assert not (out / "projections" / "pca.npz").exists()


def test_ship_retrains_one_recipe_with_its_baseline_and_their_maps(tmp_path, capsys):
    from explorer.checkpoints import Checkpoint

    assert main(["ship", "--only", "digits/mlp-ae-d2", "--root", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("digits/mlp-ae-d2") and len(printed.strip().splitlines()) == 1  # that recipe only
    ckpt = Checkpoint(tmp_path / "digits" / "mlp-ae-d2")
    assert ckpt.metrics["recon_sse"] < ckpt.config["pca_metrics"]["recon_sse"]  # it beats its baseline at d = 2
    assert ckpt.pca_path == tmp_path / "digits" / "pca-d2"
    for stored in (ckpt, ckpt.pca()):  # d = 2: the codes are their own map, so UMAP is the one map stored
        assert stored.codes_path.is_file() and stored.stored_maps == ["umap"]
    assert sorted(p.name for p in (tmp_path / "digits").iterdir()) == ["mlp-ae-d2", "pca-d2"]
