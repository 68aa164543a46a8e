"""AppTest of the Train page: a tiny model trains on digits into a temporary checkpoint root and is
selected in the sidebar at once; hyper-parameters reach the model; bad input is one st.error line."""

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.pipeline import train_checkpoint
from explorer.train import TrainConfig
from tests.apptest import open_app_page

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"




@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    root.mkdir()
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(root))
    return root


def open_train() -> AppTest:
    return open_app_page("pages/train.py")


def widget(at: AppTest, key: str):
    """The page's widget with this key, whatever its kind."""
    for kind in ("selectbox", "number_input", "text_input", "checkbox", "radio", "slider", "select_slider"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    raise KeyError(key)


def set_up(at: AppTest, **values) -> AppTest:
    for key, value in values.items():
        widget(at, key).set_value(value)
    return at.run()


def errors(at: AppTest) -> list[str]:
    """st.error lines in the page body (the sidebar has its own)."""
    return [e.value for e in at.main.error]


def test_trains_on_digits_and_selects_it_in_the_sidebar(empty_root):
    at = open_train()
    assert not at.exception
    assert at.sidebar.info  # nothing to pick yet; the page still offers training
    set_up(at, train_dataset="digits", train_family="mlp-ae", train_dim=2, train_epochs=2)
    at.button(key="train_start").click().run()
    assert not at.exception
    assert at.sidebar.selectbox(key="dataset").value == "digits"
    ckpt = at.sidebar.selectbox(key="checkpoint")
    assert ckpt.value == "mlp-ae-d2" and set(ckpt.options) == {"mlp-ae-d2", "pca-d2"}
    assert "Saved **mlp-ae-d2**" in at.success[0].value
    config = json.loads((empty_root / "digits" / "mlp-ae-d2" / "config.json").read_text())
    assert config["train"]["epochs_run"] == 2 and not config["train"]["cancelled"]
    assert 0 < config["metrics"]["recon_sse"] < 30  # 8 x 8 digits: the error of d = 0 is about 17
    assert (empty_root / "digits" / "pca-d2" / "model.safetensors").is_file()
    assert [p.name for p in (empty_root / "digits").iterdir() if p.name.startswith(".")] == []  # no temp folders
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")  # the loss chart of the finished run


def test_family_options_reach_the_model(empty_root):
    at = open_train()
    set_up(at, train_dataset="digits", train_family="vae")
    assert widget(at, "train_beta") and widget(at, "train_backbone")
    with pytest.raises(KeyError):
        widget(at, "train_l1")  # only the sparse family has an L1 weight
    set_up(at, train_beta=4.0, train_backbone="conv", train_dim=3, train_epochs=1)
    at.button(key="train_start").click().run()
    assert not at.exception
    model = json.loads((empty_root / "digits" / "vae-d3" / "config.json").read_text())["model"]
    assert model["beta"] == 4.0 and model["backbone"] == "conv" and model["dim"] == 3
    set_up(at, train_family="denoising-ae")
    assert widget(at, "train_noise").options == ["gaussian", "salt-pepper", "masking"]
    set_up(at, train_family="conv-ae")
    set_up(at, train_conv_fc=64, train_dim=2)
    at.button(key="train_start").click().run()
    assert not at.exception
    model = json.loads((empty_root / "digits" / "conv-ae-d2" / "config.json").read_text())["model"]
    assert model["conv_fc"] == [64]


def test_bad_folder_is_one_error_line_and_writes_nothing(empty_root):
    at = open_train()
    set_up(at, train_dataset="folder")
    set_up(at, train_folder="/no/such/folder")
    at.button(key="train_start").click().run()
    assert not at.exception
    msgs = errors(at)
    assert len(msgs) == 1 and "/no/such/folder" in msgs[0] and "\n" not in msgs[0]
    assert list(empty_root.iterdir()) == []


def test_existing_name_needs_overwrite(empty_root):
    train_checkpoint("digits", "mlp-ae", 2, TrainConfig(epochs=1), root=empty_root)
    at = open_train()
    set_up(at, train_dataset="digits", train_family="mlp-ae", train_dim=2, train_epochs=1)
    at.button(key="train_start").click().run()
    msgs = errors(at)
    assert len(msgs) == 1 and "exists" in msgs[0]
    set_up(at, train_name="bad/name")
    at.button(key="train_start").click().run()
    assert "invalid checkpoint name" in errors(at)[0]


def test_an_interrupted_run_is_reported_as_cancelled(empty_root):
    at = open_train()
    at.session_state["train_job"] = {"state": "running", "spec": "digits", "name": "mlp-ae-d2", "dim": 2,
                                     "epoch": 3, "epochs": 10, "history": []}
    at.run()
    assert "cancelled at epoch 3 of 10" in at.warning[0].value and "nothing was saved" in at.warning[0].value
    at.run()  # reported once
    assert not at.warning


def test_sidebar_choice_reaches_the_page(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    shutil.copytree(SHIPPED, root)
    train_checkpoint("digits", "mlp-ae", 2, TrainConfig(epochs=1), root=root, out=root / "digits" / "tiny-d2")
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(root))
    at = open_train()
    assert at.selectbox(key="train_dataset").value == "mnist5k"  # the sidebar's default dataset
    at2 = open_app_page("pages/train.py", dataset="digits")
    assert at2.selectbox(key="train_dataset").value == "digits"  # the page starts from the sidebar's dataset
