"""The user's own images: a folder of image files, or an .npz / .npy array."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from explorer.datasets.base import check_images, check_labels, make_dataset
from explorer.errors import ExplorerError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


def load_image(source, size: int, color: str = "gray") -> np.ndarray:
    """One image file (path or file-like) -> (C, size, size) float32 in [0, 1]. Raises on a bad file."""
    from PIL import Image

    with Image.open(source) as img:
        img = img.convert("L" if color == "gray" else "RGB").resize((size, size), Image.BILINEAR)
        arr = np.asarray(img, dtype=np.float32) / 255.0
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def _load_files(root: Path, size: int, color: str):
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if subdirs:
        entries = [(f, d.name) for d in subdirs for f in sorted(d.rglob("*")) if f.suffix.lower() in IMAGE_SUFFIXES]
    else:
        entries = [(f, None) for f in sorted(root.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    images, labels, skipped = [], [], 0
    for path, label in entries:
        try:
            images.append(load_image(path, size, color))
            labels.append(label)
        except Exception:
            skipped += 1
    if skipped:
        warnings.warn(f"{root}: skipped {skipped} unreadable or corrupt image file(s)", stacklevel=2)
    if not images:
        raise ExplorerError(f"{root}: no readable images found; put .png / .jpg files in it (sub-folders become labels)")
    return np.stack(images), (labels if subdirs else None)


def _load_array(path: Path):
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise ExplorerError(f"{path}: not a readable .npy / .npz file ({exc})") from None
    if isinstance(data, np.ndarray):
        return data, None
    with data:
        if "x" not in data.files:
            raise ExplorerError(f"{path}: .npz needs an array named 'x' (and optionally 'y'); found {data.files}")
        return data["x"], (data["y"] if "y" in data.files else None)


def load_folder(spec_path: str, size: int = 28, color: str = "gray"):
    """Load `folder:PATH`: a directory of images (sub-folders = labels) or a .npz / .npy file."""
    if color not in ("gray", "rgb"):
        raise ExplorerError(f"color must be 'gray' or 'rgb', got {color!r}")
    path = Path(spec_path).expanduser()
    if not path.exists():
        raise ExplorerError(f"{path}: no such file or folder")
    if path.is_dir():
        raw, labels = _load_files(path, size, color)
    elif path.suffix.lower() in (".npz", ".npy"):
        raw, labels = _load_array(path)
    else:
        raise ExplorerError(f"{path}: expected a folder of images or an .npz / .npy file")
    images = check_images(raw, str(path))
    y, names = (None, []) if labels is None else check_labels(labels, len(images), str(path))
    return make_dataset(f"folder:{spec_path}", images, y, names)
