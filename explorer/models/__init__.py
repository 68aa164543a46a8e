"""Importing this package imports each of its modules, so every model family registers itself (a new family is
one new file here); MODELS lists them in their declared `order`."""

import importlib
import pkgutil

from explorer.models.base import MODELS, Autoencoder, ModelConfig, build_model

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["MODELS", "Autoencoder", "ModelConfig", "build_model"]
