"""Checkpoints: checkpoints/<dataset>/<model>-d<d>/ with model.safetensors and config.json.

Weights are safetensors (never unpickled); config.json holds everything needed to rebuild the
model and to know where it came from. Writes are atomic (explorer.atomic), so a killed run never leaves half a checkpoint.
"""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from explorer.atomic import atomic_write_dir
from explorer.errors import ExplorerError
from explorer.models.base import Autoencoder, ModelConfig, build_model

SHIPPED_ROOT = Path(__file__).resolve().parent.parent / "checkpoints"
WEIGHTS, CONFIG = "model.safetensors", "config.json"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def checkpoint_root() -> Path:
    """Where checkpoints live: $EXPLORER_CHECKPOINTS, else the shipped checkpoints/ folder."""
    return Path(os.environ.get("EXPLORER_CHECKPOINTS") or SHIPPED_ROOT)


def checkpoint_name(family: str, dim: int) -> str:
    return f"{family}-d{dim}"


def dataset_folder(dataset: str) -> str:
    """Folder name for a dataset spec; folder:PATH specs become folder-<basename>."""
    if dataset.startswith("folder:"):
        dataset = "folder-" + Path(dataset[7:]).stem
    return check_name(dataset)


def check_name(name: str) -> str:
    if not _SAFE_NAME.match(name) or ".." in name:
        raise ExplorerError(f"invalid checkpoint name {name!r}: use letters, digits, '-', '_' and '.', no path separators")
    return name


def default_dir(dataset: str, family: str, dim: int, root: Path | None = None) -> Path:
    return Path(root or checkpoint_root()) / dataset_folder(dataset) / checkpoint_name(family, dim)


def versions() -> dict:
    import numpy
    import sklearn

    import explorer

    return {"explorer": explorer.__version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "python": platform.python_version()}


def cpu_state(model) -> dict:
    """The model's tensors, detached, on the CPU and contiguous: what safetensors stores."""
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def save_checkpoint(model: Autoencoder, out_dir: str | Path, meta: dict | None = None) -> Path:
    """Write model weights and config (plus meta: dataset, split, metrics, ...) atomically."""
    out_dir = Path(out_dir)
    check_name(out_dir.name)
    state = cpu_state(model)
    config = {"model": model.config.to_dict(), **(meta or {}), "versions": versions()}

    def write(tmp: Path):
        save_file(state, str(tmp / WEIGHTS))
        (tmp / CONFIG).write_text(json.dumps(config, indent=2, default=_jsonable))

    atomic_write_dir(out_dir, write)
    return out_dir


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in config.json")


def read_config(ckpt_dir: str | Path) -> dict:
    ckpt_dir = Path(ckpt_dir)
    path = ckpt_dir / CONFIG
    if not path.is_file():
        raise ExplorerError(f"{ckpt_dir}: not a checkpoint (no {CONFIG}); train one with `explorer train`")
    try:
        config = json.loads(path.read_text())
        ModelConfig.from_dict(config["model"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ExplorerError(f"{path}: corrupt checkpoint config ({exc}); retrain or restore it") from None
    return config


def load_checkpoint(ckpt_dir: str | Path, image_shape: tuple | None = None, device="cpu") -> tuple[Autoencoder, dict]:
    """Rebuild a model from its folder. image_shape, if given, must match the checkpoint's."""
    ckpt_dir = Path(ckpt_dir)
    config = read_config(ckpt_dir)
    model_config = ModelConfig.from_dict(config["model"])
    if image_shape is not None and tuple(image_shape) != tuple(model_config.image_shape):
        raise ExplorerError(
            f"{ckpt_dir}: trained on images of shape {tuple(model_config.image_shape)}, "
            f"but the data are {tuple(image_shape)}; pick a checkpoint trained on this dataset"
        )
    model = build_model(model_config)
    try:
        state = load_file(str(ckpt_dir / WEIGHTS), device=str(device))
        model.load_state_dict(state)
    except Exception as exc:
        raise ExplorerError(f"{ckpt_dir / WEIGHTS}: corrupt or mismatched weights ({type(exc).__name__}); retrain or restore it") from None
    return model.to(device).eval(), config


def list_checkpoints(root: str | Path | None = None) -> list[Path]:
    """Every checkpoint folder under root, sorted by dataset then name."""
    root = Path(root or checkpoint_root())
    if not root.is_dir():
        return []
    return sorted(p.parent for p in root.glob(f"*/*/{CONFIG}") if not p.parent.name.startswith("."))
