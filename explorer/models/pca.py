"""PCA as the baseline: scikit-learn's PCA behind the autoencoder interface (PCA = a linear autoencoder)."""

from __future__ import annotations

import numpy as np
import torch

from explorer.models.base import Autoencoder, ModelConfig, register


@register("pca")
class PCAModel(Autoencoder):
    is_trainable = False

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        D, d = config.n_pixels, config.dim
        self.register_buffer("mean_", torch.zeros(D))
        self.register_buffer("components_", torch.zeros(d, D))  # (d, D), orthonormal rows
        self.register_buffer("explained_variance_", torch.zeros(d))
        self.register_buffer("explained_variance_ratio_", torch.zeros(d))

    def fit(self, x: torch.Tensor) -> "PCAModel":
        from sklearn.decomposition import PCA

        flat = x.reshape(len(x), -1).cpu().numpy().astype(np.float64)
        pca = PCA(n_components=min(self.dim, *flat.shape), random_state=0).fit(flat)
        k = pca.n_components_  # d may exceed what the data allows; extra rows stay zero
        self.mean_.copy_(torch.from_numpy(pca.mean_).float())
        self.components_[:k] = torch.from_numpy(pca.components_).float()
        self.explained_variance_[:k] = torch.from_numpy(pca.explained_variance_).float()
        self.explained_variance_ratio_[:k] = torch.from_numpy(pca.explained_variance_ratio_).float()
        return self

    def encode(self, x):  # (B, C, H, W) -> (B, d)
        return (x.flatten(1) - self.mean_) @ self.components_.T

    def decode(self, z):  # (B, d) -> (B, C, H, W); exact inverse on the principal subspace
        return (z @ self.components_ + self.mean_).view(len(z), *self.config.image_shape)
