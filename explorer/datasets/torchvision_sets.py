"""MNIST-family and CIFAR-10 through torchvision's own loaders, from a data root.

The data root is the --data-root flag, else $EXPLORER_DATA, else ./data. Files are
downloaded when the machine is online; offline with the files absent, a one-line
error says where to put which files.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from explorer.datasets.base import make_dataset
from explorer.errors import ExplorerError

MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
CIFAR_FILES = [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"]


def data_root(root: str | os.PathLike | None = None) -> Path:
    return Path(root or os.environ.get("EXPLORER_DATA") or "data").expanduser()


def _mnist_class(name: str):
    from torchvision import datasets

    return {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST, "kmnist": datasets.KMNIST}[name]


def _cifar_class():
    from torchvision import datasets

    class LocalCIFAR10(datasets.CIFAR10):
        # torchvision checks the md5 of each batch; without a checksum it checks that the file
        # exists, so hand-written or partial copies load, and a corrupt one fails when it is read.
        train_list = [[name, None] for name, _ in datasets.CIFAR10.train_list]
        test_list = [[name, None] for name, _ in datasets.CIFAR10.test_list]
        meta = {**datasets.CIFAR10.meta, "md5": None}

    return LocalCIFAR10


def _try_download(cls, root: Path) -> None:
    import socket

    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(10)
    try:
        cls(root, train=True, download=True)
        cls(root, train=False, download=True)
    except Exception:
        pass  # offline or refused: the caller reports which files are missing
    finally:
        socket.setdefaulttimeout(old)


def load_torchvision(name: str, root=None, download: bool = True):
    """Load the official train / test split of a torchvision dataset as one Dataset."""
    root = data_root(root)
    cls = _cifar_class() if name == "cifar10" else _mnist_class(name)
    if name == "cifar10":
        folder, files = root / "cifar-10-batches-py", CIFAR_FILES
    else:
        folder, files = root / cls.__name__ / "raw", MNIST_FILES
    if download and not all((folder / f).is_file() for f in files):
        _try_download(cls, root)
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise ExplorerError(
            f"{name}: files not found; put {', '.join(missing)} in {folder} "
            f"(or set --data-root / $EXPLORER_DATA to the folder that holds {folder.relative_to(root)})"
        )
    try:
        train, test = cls(root, train=True, download=False), cls(root, train=False, download=False)
    except Exception as exc:  # a truncated or corrupt file
        raise ExplorerError(
            f"{name}: could not read the files in {folder} ({exc}); replace them with intact copies") from None
    parts = []
    for part in (train, test):
        x = np.asarray(part.data)
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)  # (N, C, H, W)
        parts.append((np.asarray(x, dtype=np.uint8), np.asarray(part.targets, dtype=np.int64)))
    images = np.concatenate([parts[0][0], parts[1][0]])
    labels = np.concatenate([parts[0][1], parts[1][1]])
    n_train = len(parts[0][0])
    split = (np.arange(n_train), np.arange(n_train, len(images)))
    return make_dataset(name, images, labels, list(train.classes), split=split)
