"""Torch devices: the fastest one available, and the one a model lives on."""

import torch
from torch import nn


def best_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def model_device(model: nn.Module) -> torch.device:
    """Where the model's tensors live (PCA has buffers but no parameters)."""
    return next(iter(model.state_dict().values())).device
