"""Importing this package registers every model family."""

from explorer.models import pca, linear, mlp, sparse, denoising, vae  # noqa: F401, I001  (registry order)
from explorer.models.base import MODELS, Autoencoder, ModelConfig, build_model

__all__ = ["MODELS", "Autoencoder", "ModelConfig", "build_model"]
