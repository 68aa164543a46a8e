import os

import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def digits():
    from explorer.datasets import load_dataset

    return load_dataset("digits")


@pytest.fixture(scope="session")
def mnist5k():
    from explorer.datasets import load_dataset

    return load_dataset("mnist5k")
