"""Images kept as they are stored, turned into floats one batch at a time.

A million 28 x 28 images are 0.8 GB as uint8 and 3.1 GB as float32; a million 64 x 64 colour images
are 12 GB and 49 GB. So images stay uint8 (0..255) wherever the source is 8-bit, in memory or memory-mapped
from a cache file, and only the batch being worked on is converted, on the device it is sent to. Sources that
are not 8-bit (scikit-learn's 0..16 digits, rendered sprites, float arrays) are stored as float32 in [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch


def to_float(x: torch.Tensor) -> torch.Tensor:
    """Images as float in [0, 1]: uint8 storage is converted (a new tensor), float passes through."""
    return x.float().div_(255) if x.dtype == torch.uint8 else x


class Images:
    """N images (N, C, H, W) as stored (uint8 or float32), optionally seen through an index (a subset).

    images[k] returns float32 in [0, 1] for an int, slice, index array or mask over this view; raw(k)
    returns the stored values, for sending a batch to a device before converting it; take(idx) is a
    subset view that copies nothing."""

    def __init__(self, storage: torch.Tensor, index: np.ndarray | None = None):
        self.storage = storage
        self.index = None if index is None else np.asarray(index, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.storage) if self.index is None else len(self.index)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self.storage.shape[1:])

    def _rows(self, k):
        if self.index is None:
            return k
        rows = self.index[k.numpy() if isinstance(k, torch.Tensor) else k]
        return rows if np.ndim(rows) == 0 else torch.from_numpy(rows)

    def raw(self, k=slice(None)) -> torch.Tensor:
        return self.storage[self._rows(k)]

    def __getitem__(self, k) -> torch.Tensor:
        return to_float(self.raw(k))

    def take(self, idx) -> Images:
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return Images(self.storage, idx if self.index is None else self.index[idx])

    def batches(self, batch_size: int, device: torch.device | str = "cpu") -> Iterator[torch.Tensor]:
        """Float batches in order, each moved to device as stored and converted there."""
        for i in range(0, len(self), batch_size):
            yield to_float(self.raw(slice(i, i + batch_size)).to(device, non_blocking=True))


def as_images(x) -> Images:
    """An Images view of x (an Images, or a tensor of images or image pairs)."""
    return x if isinstance(x, Images) else Images(x)
