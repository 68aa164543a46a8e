"""Checkpoints: checkpoints/<dataset>/<model>-d<d>/ with model.safetensors and config.json.

Weights are safetensors (never unpickled); config.json holds everything needed to rebuild the
model and to know where it came from. Writes are atomic (explorer.atomic), so a killed run never leaves half a
checkpoint. A Checkpoint is the handle the CLI and the app use: its config read once, and what follows from it.
"""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from explorer import neighbors
from explorer.atomic import atomic_write_dir
from explorer.codes import CODES, codes_for
from explorer.dataroots import checkpoint_root
from explorer.datasets import load_dataset
from explorer.errors import ExplorerError
from explorer.models.base import Autoencoder, ModelConfig, build_model
from explorer.project import MAP_METHODS, methods_for, project, projection_path

WEIGHTS, CONFIG = "model.safetensors", "config.json"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def checkpoint_name(family: str, dim: int) -> str:
    return f"{family}-d{dim}"


def dataset_folder(dataset: str) -> str:
    """Folder name for a dataset spec; folder:PATH specs become folder-<basename>."""
    if dataset.startswith("folder:"):
        dataset = "folder-" + Path(dataset[7:]).stem
    return check_name(dataset)


def check_name(name: str) -> str:
    if not _SAFE_NAME.match(name) or ".." in name:
        raise ExplorerError(f"invalid checkpoint name {name!r}: use letters, digits, '-', '_' and '.', "
                            "no path separators")
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
    """config.json of a checkpoint folder, validated: a missing or corrupt one is a one-line ExplorerError."""
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
    ckpt = Checkpoint(ckpt_dir)
    return ckpt.load_model(image_shape, device), ckpt.config


def files_stamp(ckpt_dir: str | Path) -> tuple:
    """(inode, size, mtime in ns) of the weights and of config.json: changes whenever either is rewritten (an
    atomic save makes new files, so even a rewrite within the clock's tick changes the inode), so caches keyed by it
    miss after a retrain. Zeros for a missing file."""
    out = []
    for name in (WEIGHTS, CONFIG):
        try:
            st = (Path(ckpt_dir) / name).stat()
            out += [st.st_ino, st.st_size, st.st_mtime_ns]
        except OSError:
            out += [0, 0, 0]
    return tuple(out)


def same_data(a: dict, b: dict) -> bool:
    """Whether two records of what a model was fitted on (Checkpoint.fitted_on) describe the same data: equal on
    every key both hold (a config written before the full record holds fewer)."""
    shared = a.keys() & b.keys()
    return bool(shared) and all(a[k] == b[k] for k in shared)


class Checkpoint:
    """One checkpoint folder: its config.json read once (validated) and what follows from it: the dataset it was
    trained on, its model, the PCA baseline recorded beside it, the maps, codes and neighbour index stored in it,
    and a stamp for caches. Cheap to make (a stat and one small JSON file); the weights load on demand."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.stamp = files_stamp(self.path)  # before the read: a rewrite during it makes the stamp stale, not wrong
        self.config = read_config(self.path)
        self._baseline: tuple | None = None  # (its files_stamp, its Checkpoint or None), see pca()

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def family(self) -> str:
        return self.config["model"]["family"]

    @property
    def dim(self) -> int:
        return int(self.config["model"]["dim"])

    @property
    def metrics(self) -> dict:
        return self.config.get("metrics", {})

    # -- its dataset ----------------------------------------------------------------------------------
    @property
    def spec(self) -> str:
        """The dataset spec it was trained on ("mnist5k", "folder:PATH", ...)."""
        spec = self.config.get("dataset")
        if not spec:
            raise ExplorerError(f"{self.path / CONFIG}: records no dataset; retrain it with `explorer train`")
        return spec

    @property
    def dataset_options(self) -> tuple[int | None, str]:
        """(image_size, color), as load_dataset takes them."""
        opts = self.config.get("dataset_options") or {}
        return opts.get("image_size"), opts.get("color", "gray")

    def load_dataset(self, data_root=None, progress=None):
        """The dataset it was trained on, with the options it was trained with."""
        image_size, color = self.dataset_options
        return load_dataset(self.spec, data_root=data_root, image_size=image_size, color=color, progress=progress)

    @property
    def fitted_on(self) -> dict:
        """What it was fitted on, as recorded at save time (explorer.pipeline.data_record); a config written before
        that record existed gives what it does hold: the spec, its options and the split sizes."""
        if "fitted_on" in self.config:
            return self.config["fitted_on"]
        image_size, color = self.dataset_options
        split = self.config.get("split", {})
        legacy = {"dataset": self.config.get("dataset"), "dataset_options": {"image_size": image_size, "color": color}}
        if "n_train" in split:
            legacy["n_train"] = split["n_train"] + split.get("n_validation", 0)  # the whole training split
        if "n_test" in split:
            legacy["n_test"] = split["n_test"]
        return legacy

    # -- its model ------------------------------------------------------------------------------------
    def load_model(self, image_shape: tuple | None = None, device="cpu") -> Autoencoder:
        """The model with its weights (safetensors: never unpickled). image_shape, if given, must match."""
        model_config = ModelConfig.from_dict(self.config["model"])
        if image_shape is not None and tuple(image_shape) != tuple(model_config.image_shape):
            raise ExplorerError(
                f"{self.path}: trained on images of shape {tuple(model_config.image_shape)}, "
                f"but the data are {tuple(image_shape)}; pick a checkpoint trained on this dataset"
            )
        model = build_model(model_config)
        try:
            model.load_state_dict(load_file(str(self.path / WEIGHTS), device=str(device)))
        except Exception as exc:
            raise ExplorerError(f"{self.path / WEIGHTS}: corrupt or mismatched weights ({type(exc).__name__}); "
                                "retrain or restore it") from None
        return model.to(device).eval()

    # -- its PCA baseline -----------------------------------------------------------------------------
    def pca(self) -> Checkpoint | None:
        """The PCA baseline recorded at save time, as a Checkpoint (self for PCA); None when none is recorded, it
        is gone or corrupt, or it has since been refitted on other data. Its config is read again only when its
        files change (one stat per call)."""
        name = self.config.get("pca_checkpoint")
        if name is None and self.family == "pca":  # baselines saved before they recorded themselves
            name = self.name
        if not name:
            return None
        path = self.path.parent / check_name(name)
        if path == self.path:
            return self
        stamp = files_stamp(path)
        if self._baseline is None or self._baseline[0] != stamp:
            try:
                self._baseline = (stamp, Checkpoint(path))
            except ExplorerError:
                self._baseline = (stamp, None)
        baseline = self._baseline[1]
        return baseline if baseline is not None and same_data(baseline.fitted_on, self.fitted_on) else None

    @property
    def pca_path(self) -> Path | None:
        """The folder of pca() (the checkpoint itself for PCA), or None."""
        baseline = self.pca()
        return None if baseline is None else baseline.path

    # -- what is stored beside it ---------------------------------------------------------------------
    @property
    def codes_path(self) -> Path:
        return self.path / CODES

    def codes(self, model: Autoencoder, dataset, progress=None):
        """The codes (N, d) of every image: stored, or computed and stored now (explorer.codes)."""
        return codes_for(self.path, model, dataset, progress)

    def map_path(self, method: str) -> Path:
        return projection_path(self.path, method)

    @property
    def stored_maps(self) -> list[str]:
        """The map methods with a file stored beside it (each is checked against the codes when read)."""
        return [m for m in MAP_METHODS if self.map_path(m).is_file()]

    def store_maps(self, dataset=None, methods=("pca", "umap")) -> dict[str, Path]:
        """Compute and store the maps of its codes, so the app opens on them at once; dataset: the one it was
        trained on, when already loaded. d = 2 is shown directly, and PCA of it would only rotate it."""
        dataset = dataset if dataset is not None else self.load_dataset()
        model = self.load_model(dataset.image_shape)
        codes = np.asarray(self.codes(model, dataset))
        kept = [m for m in methods if m in methods_for(codes.shape[1]) and not (m == "pca" and codes.shape[1] == 2)]
        for method in kept:
            project(codes, method, self.path)
        return {method: self.map_path(method) for method in kept}

    def index_path(self, metric: str = "euclidean") -> Path:
        return neighbors.index_path(self.path, metric)


def list_checkpoints(root: str | Path | None = None) -> list[Path]:
    """Every checkpoint folder under root, sorted by dataset then name."""
    root = Path(root or checkpoint_root())
    if not root.is_dir():
        return []
    return sorted(p.parent for p in root.glob(f"*/*/{CONFIG}") if not p.parent.name.startswith("."))


def checkpoints_by_dataset(root: str | Path | None = None, open_checkpoint=Checkpoint) -> dict[str, list[Checkpoint]]:
    """Every readable checkpoint under root, grouped by the dataset it was trained on. open_checkpoint: how a folder
    becomes a Checkpoint (the app passes its cached one, so a config is read once per version of its files)."""
    groups: dict[str, list[Checkpoint]] = {}
    for path in list_checkpoints(root):
        try:
            ckpt = open_checkpoint(path)
            groups.setdefault(ckpt.spec, []).append(ckpt)
        except ExplorerError:
            continue  # a corrupt checkpoint is skipped here and reported when chosen directly
    return groups
