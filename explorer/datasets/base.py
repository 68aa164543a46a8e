"""The one shape every dataset has: images N x C x H x W in [0, 1], labels, factors, a fixed split."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from explorer.errors import ExplorerError

SPLIT_SEED = 0


@dataclass
class Dataset:
    name: str
    images: torch.Tensor  # (N, C, H, W) float32 in [0, 1]
    labels: np.ndarray | None  # (N,) int64, None when unlabelled
    class_names: list[str]
    train_idx: np.ndarray
    test_idx: np.ndarray
    factors: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (N,) values

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def __len__(self) -> int:
        return len(self.images)

    @property
    def x_train(self) -> torch.Tensor:
        return self.images[self.train_idx]

    @property
    def x_test(self) -> torch.Tensor:
        return self.images[self.test_idx]

    @property
    def y_train(self) -> np.ndarray | None:
        return None if self.labels is None else self.labels[self.train_idx]

    @property
    def y_test(self) -> np.ndarray | None:
        return None if self.labels is None else self.labels[self.test_idx]


def split_indices(n: int, labels: np.ndarray | None, test_fraction: float = 0.2):
    """Deterministic train / held-out split, stratified by label when labels exist."""
    idx = np.arange(n)
    stratify = labels if labels is not None and np.bincount(labels).min() >= 2 else None
    train, test = train_test_split(idx, test_size=test_fraction, random_state=SPLIT_SEED, stratify=stratify)
    return np.sort(train), np.sort(test)


def check_images(images: np.ndarray, source: str) -> np.ndarray:
    """Validate an array of images and return it as float32 N x C x H x W in [0, 1].

    Accepts N x H x W, N x H x W x C (C in 1, 3) or N x C x H x W; uint8 arrays are scaled by 1/255.
    """
    arr = np.asarray(images)
    if arr.ndim not in (3, 4):
        raise ExplorerError(f"{source}: expected images of rank 3 (N,H,W) or 4 (N,H,W,C / N,C,H,W), got shape {arr.shape}")
    if len(arr) == 0:
        raise ExplorerError(f"{source}: contains no images")
    if not np.issubdtype(arr.dtype, np.number):
        raise ExplorerError(f"{source}: images must be numeric, got dtype {arr.dtype}")
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
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
    if arr.ndim == 3:
        arr = arr[:, None]
    elif arr.shape[-1] in (1, 3) and arr.shape[1] not in (1, 3):
        arr = arr.transpose(0, 3, 1, 2)
    elif arr.shape[1] not in (1, 3):
        raise ExplorerError(f"{source}: cannot tell the channel axis of shape {arr.shape}; use N,H,W,C with C = 1 or 3")
    return np.ascontiguousarray(arr)


def check_labels(labels, n: int, source: str) -> tuple[np.ndarray, list[str]]:
    """Map any label values to 0..K-1 and return them with their class names."""
    y = np.asarray(labels).reshape(-1)
    if len(y) != n:
        raise ExplorerError(f"{source}: {len(y)} labels for {n} images; they must match one to one")
    names, codes = np.unique(y, return_inverse=True)
    return codes.astype(np.int64), [str(v) for v in names]


def make_dataset(name, images, labels=None, class_names=None, factors=None, split=None) -> Dataset:
    """Build a Dataset from validated arrays; split defaults to the stratified seed-0 split."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
    y = None if labels is None else np.asarray(labels, dtype=np.int64)
    train, test = split if split is not None else split_indices(len(x), y)
    return Dataset(
        name=name,
        images=x,
        labels=y,
        class_names=list(class_names or []),
        train_idx=np.asarray(train),
        test_idx=np.asarray(test),
        factors=dict(factors or {}),
    )
