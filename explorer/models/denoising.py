"""Denoising autoencoder: corrupt the input, reconstruct the CLEAN image.

The code is linear unless config.extra["relu_code"] is set: then it is non-negative (ReLU), like the
sparse family's L1 code, so that the two regularisers can be compared on the same kind of code
(explorer.experiments.overcomplete).
"""

import torch

from explorer.models.base import register
from explorer.models.mlp import DeepAE
from explorer.noise import corrupt


@register("denoising-ae")
class DenoisingAE(DeepAE):
    backbone = None  # config.backbone decides

    def encode(self, x):
        z = self.encoder(x)
        return torch.relu(z) if self.config.extra.get("relu_code") else z

    def loss(self, x):
        noisy = corrupt(x, self.config.noise, self.config.noise_level)
        recon = self.recon_loss(self.encode(noisy), x)  # the target is the clean x, never the noisy input
        return {"loss": recon, "recon": recon}
