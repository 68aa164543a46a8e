"""The one shape every dataset has: images N x C x H x W (uint8 or float32 storage, read as floats in [0, 1]),
labels, factors, a fixed split."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from explorer.datasets.images import Images
from explorer.errors import ExplorerError

SPLIT_SEED = 0
VALIDATION_FRACTION, VALIDATION_MAX = 0.1, 10_000  # carved from the training split for model selection


@dataclass
class Dataset:
    name: str
    pixels: torch.Tensor  # (N, C, H, W) as stored: uint8 0..255 or float32 0..1, maybe memory-mapped
    labels: np.ndarray | None  # (N,) int64, None when unlabelled
    class_names: list[str]
    train_idx: np.ndarray
    test_idx: np.ndarray
    factors: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (N,) values
    fingerprint: str = ""  # changes whenever the images do: what stored codes are checked against

    def __post_init__(self):
        self.fingerprint = self.fingerprint or f"{self.name}:{tuple(self.pixels.shape)}"

    @property
    def images(self) -> Images:
        """Every image; indexing gives float32 in [0, 1], one batch at a time (images[:] gives them all)."""
        return Images(self.pixels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.pixels.shape[1:])

    def __len__(self) -> int:
        return len(self.pixels)

    @property
    def x_train(self) -> torch.Tensor:
        """The training images as one float tensor: for small sets; at scale use images.take(train_idx)."""
        return self.images[self.train_idx]

    @property
    def x_test(self) -> torch.Tensor:
        return self.images[self.test_idx]

    def validation_split(self) -> tuple[np.ndarray, np.ndarray]:
        """(fit_idx, val_idx): the training split cut in two (stratified, seed 0) so that model selection
        never looks at the held-out split; models are fitted on fit_idx and chosen on val_idx."""
        n_val = int(min(max(round(VALIDATION_FRACTION * len(self.train_idx)), 1), VALIDATION_MAX))
        labels = None if self.labels is None else self.labels[self.train_idx]
        fit, val = split_indices(len(self.train_idx), labels, test_size=n_val)
        return self.train_idx[fit], self.train_idx[val]

    @property
    def y_train(self) -> np.ndarray | None:
        return None if self.labels is None else self.labels[self.train_idx]

    @property
    def y_test(self) -> np.ndarray | None:
        return None if self.labels is None else self.labels[self.test_idx]


def split_indices(n: int, labels: np.ndarray | None, test_size: float | int = 0.2):
    """Deterministic split of range(n) in two, stratified by label when every class can be split."""
    if n < 2:
        raise ExplorerError(f"{n} image(s) cannot be split into training and held-out images; add more images")
    idx = np.arange(n)
    n_test = test_size if isinstance(test_size, int) else math.ceil(test_size * n)  # as scikit-learn counts
    counts = np.unique(labels, return_counts=True)[1] if labels is not None else None
    can_stratify = counts is not None and counts.min() >= 2 and len(counts) <= min(n_test, n - n_test)
    stratify = labels if can_stratify else None
    train, test = train_test_split(idx, test_size=test_size, random_state=SPLIT_SEED, stratify=stratify)
    return np.sort(train), np.sort(test)


def check_images(images: np.ndarray, source: str) -> np.ndarray:
    """Validate an array of images and return it as N x C x H x W: uint8 arrays as they are (a memory map
    stays one), anything else as float32 in [0, 1].

    Accepts N x H x W, N x H x W x C (C in 1, 3) or N x C x H x W; values in [0, 255] are scaled by 1/255.
    """
    arr = np.asarray(images)
    if arr.ndim not in (3, 4):
        raise ExplorerError(
            f"{source}: expected images of rank 3 (N,H,W) or 4 (N,H,W,C / N,C,H,W), got shape {arr.shape}")
    if len(arr) == 0:
        raise ExplorerError(f"{source}: contains no images")
    if not np.issubdtype(arr.dtype, np.number):
        raise ExplorerError(f"{source}: images must be numeric, got dtype {arr.dtype}")
    if arr.dtype != np.uint8:
        arr = _unit_floats(arr, source)
    if arr.ndim == 3:
        arr = arr[:, None]
    elif arr.shape[-1] in (1, 3) and arr.shape[1] not in (1, 3):
        arr = arr.transpose(0, 3, 1, 2)
    elif arr.shape[1] not in (1, 3):
        raise ExplorerError(f"{source}: cannot tell the channel axis of shape {arr.shape}; use N,H,W,C with C = 1 or 3")
    return arr if isinstance(arr, np.memmap) else np.ascontiguousarray(arr)


def _unit_floats(arr: np.ndarray, source: str) -> np.ndarray:
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise ExplorerError(f"{source}: images contain NaN or infinite values; clean the data first")
    if arr.min() < 0 or arr.max() > 1:
        if arr.min() >= 0 and arr.max() <= 255:
            arr = arr / 255.0
        else:
            raise ExplorerError(
                f"{source}: pixel values span [{arr.min():g}, {arr.max():g}]; expected [0, 1] or [0, 255]"
            )
    return arr


def check_labels(labels, n: int, source: str) -> tuple[np.ndarray, list[str]]:
    """Map any label values to 0..K-1 and return them with their class names."""
    y = np.asarray(labels).reshape(-1)
    if len(y) != n:
        raise ExplorerError(f"{source}: {len(y)} labels for {n} images; they must match one to one")
    names, codes = np.unique(y, return_inverse=True)
    return codes.astype(np.int64), [str(v) for v in names]


def make_dataset(name, images, labels=None, class_names=None, factors=None, split=None, fingerprint="") -> Dataset:
    """Build a Dataset from validated arrays (uint8 kept as uint8, anything else float32, a memory map
    read in place: open it copy-on-write, mmap_mode="c"); split defaults to the stratified seed-0 split."""
    images = images if images.dtype == np.uint8 else np.asarray(images, dtype=np.float32)
    x = torch.from_numpy(images)
    y = None if labels is None else np.asarray(labels, dtype=np.int64)
    train, test = split if split is not None else split_indices(len(x), y)
    return Dataset(
        name=name,
        pixels=x,
        fingerprint=fingerprint,
        labels=y,
        class_names=list(class_names or []),
        train_idx=np.asarray(train),
        test_idx=np.asarray(test),
        factors=dict(factors or {}),
    )
