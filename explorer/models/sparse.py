"""Sparse autoencoder: non-negative code with an L1 penalty; codes may be over-complete."""

import torch

from explorer.models.base import register
from explorer.models.mlp import DeepAE


@register("sparse-ae")
class SparseAE(DeepAE):
    backbone = None  # config.backbone decides

    def encode(self, x):
        return torch.relu(self.encoder(x))  # (B, d) >= 0, so most units can be exactly off

    def loss(self, x):
        z = self.encode(x)
        recon = self.recon_loss(z, x)
        l1 = z.abs().sum(1).mean()
        sparsity = (z.abs() < 1e-3).float().mean()
        return {"loss": recon + self.config.l1_weight * l1, "recon": recon, "l1": l1, "sparsity": sparsity}
