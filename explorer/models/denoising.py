"""Denoising autoencoder: corrupt the input, reconstruct the CLEAN image.

The code is linear unless the relu_code option is set: then it is non-negative (ReLU), like the
sparse family's L1 code, so that the two regularisers can be compared on the same kind of code
(explorer.experiments.overcomplete).
"""

import torch

from explorer.models.backbones import BACKBONE
from explorer.models.base import register
from explorer.models.mlp import DeepAE
from explorer.models.options import Option
from explorer.noise import NOISE_KINDS, corrupt


@register("denoising-ae")
class DenoisingAE(DeepAE):
    order = 40
    options = (
        Option("noise", str, "gaussian", "the corruption of the input", label="Noise", choices=NOISE_KINDS),
        Option("noise_level", float, 0.3, "Gaussian std, or the share of pixels flipped or masked",
               label="Noise level", low=0.0, high=5.0, step=0.05),
        Option("relu_code", bool, False, "a non-negative (ReLU) code, as the sparse family's L1 code",
               label="Non-negative code (ReLU)"),
        BACKBONE,
    )

    def encode(self, x):
        z = self.encoder(x)
        return torch.relu(z) if self.config.relu_code else z

    def loss(self, x):
        noisy = corrupt(x, self.config.noise, self.config.noise_level)
        recon = self.recon_loss(self.encode(noisy), x)  # the target is the clean x, never the noisy input
        return {"loss": recon, "recon": recon}
