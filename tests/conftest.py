import os
import shutil
from pathlib import Path

import pytest
import torch

# One thread: tests share 2 cores with the app server under test, and torch threads spinning
# against each other are far slower than one thread each.
torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def checkpoint_copy(tmp_path_factory) -> Path:
    """Every test (and the app under test) works on a copy of the shipped checkpoints, so nothing a
    test trains, or a page stores beside a checkpoint, lands in the repository."""
    dst = tmp_path_factory.mktemp("checkpoints") / "checkpoints"
    shutil.copytree(ROOT / "checkpoints", dst)
    old = os.environ.get("EXPLORER_CHECKPOINTS")
    os.environ["EXPLORER_CHECKPOINTS"] = str(dst)
    yield dst
    if old is None:
        os.environ.pop("EXPLORER_CHECKPOINTS", None)
    else:
        os.environ["EXPLORER_CHECKPOINTS"] = old


@pytest.fixture(scope="session")
def digits():
    from explorer.datasets import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def mnist5k():
    from explorer.datasets import load_dataset

    return load_dataset("mnist5k")
