"""The user's own images: a folder of image files, or an .npz / .npy array."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.datasets.base import check_images, check_labels, make_dataset
from explorer.datasets.folder_cache import IMAGE_SUFFIXES, decode_image, folder_images  # noqa: F401 (re-exported)
from explorer.errors import ExplorerError


def _load_array(path: Path):
    try:  # an .npy is memory-mapped (copy-on-write: the file is never changed); an .npz is read whole
        data = np.load(path, allow_pickle=False, mmap_mode="c" if path.suffix.lower() == ".npy" else None)
    except Exception as exc:
        raise ExplorerError(f"{path}: not a readable .npy / .npz file ({exc})") from None
    if isinstance(data, np.ndarray):
        return data, None
    with data:
        if "x" not in data.files:
            raise ExplorerError(f"{path}: .npz needs an array named 'x' (and optionally 'y'); found {data.files}")
        return data["x"], (data["y"] if "y" in data.files else None)


def load_folder(spec_path: str, size: int = 28, color: str = "gray", progress=None):
    """Load `folder:PATH`: a directory of images (sub-folders = labels), decoded once into a cache and
    memory-mapped after that (progress(done, total) while decoding), or a .npz / .npy file."""
    if color not in ("gray", "rgb"):
        raise ExplorerError(f"color must be 'gray' or 'rgb', got {color!r}")
    path = Path(spec_path).expanduser()
    if not path.exists():
        raise ExplorerError(f"{path}: no such file or folder")
    if path.is_dir():
        raw, labels, fingerprint = folder_images(path, size, color, progress)
    elif path.suffix.lower() in (".npz", ".npy"):
        raw, labels = _load_array(path)
        stat = path.resolve().stat()
        fingerprint = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    else:
        raise ExplorerError(f"{path}: expected a folder of images or an .npz / .npy file")
    images = check_images(raw, str(path))
    y, names = (None, []) if labels is None else check_labels(labels, len(images), str(path))
    return make_dataset(f"folder:{spec_path}", images, y, names, fingerprint=fingerprint)
