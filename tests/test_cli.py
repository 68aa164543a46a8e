"""The CLI end to end on digits, in seconds; bad input is one line and a non-zero exit."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from explorer.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    out = root / "digits" / "mlp-ae-d4"
    assert main(["train", "--dataset", "digits", "--model", "mlp-ae", "--dim", "4", "--epochs", "30", "--out", str(out)]) == 0
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
    assert result["knn_acc"] > 0.6


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
    (["evaluate", "/does/not/exist"], "not a checkpoint"),
    (["embed", "/does/not/exist", "--out", "x.csv"], "not a checkpoint"),
])
def test_bad_input_is_one_line(args, message):
    proc = subprocess.run([sys.executable, "-m", "explorer", *args], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_embed_to_a_bad_suffix(trained, capsys):
    _, out = trained
    assert main(["embed", str(out), "--out", "codes.txt"]) == 2
    assert "must end in .csv or .parquet" in capsys.readouterr().err
