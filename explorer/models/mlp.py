"""Deep autoencoders: fully connected (mlp-ae) and convolutional (conv-ae), sigmoid outputs.

They train on binary cross-entropy (pixels as Bernoulli means), which keeps gradients alive where
a sigmoid saturates; they are measured, like every model, by squared error.
"""

import torch

from explorer.models.backbones import make_pair
from explorer.models.base import Autoencoder, bce_logits, register


class DeepAE(Autoencoder):
    backbone = "mlp"  # None: config.backbone decides

    def __init__(self, config):
        super().__init__(config)
        if self.backbone:
            config.backbone = self.backbone
        self.encoder, self.decoder = make_pair(config, config.dim)

    def encode(self, x):  # (B, C, H, W) -> (B, d)
        return self.encoder(x)

    def decode(self, z):  # (B, d) -> (B, C, H, W) in [0, 1]
        return torch.sigmoid(self.decoder(z))

    def recon_loss(self, z, target):
        return bce_logits(self.decoder(z), target)

    def loss(self, x):
        recon = self.recon_loss(self.encode(x), x)
        return {"loss": recon, "recon": recon}


@register("mlp-ae")
class MLPAE(DeepAE):
    backbone = "mlp"


@register("conv-ae")
class ConvAE(DeepAE):
    backbone = "conv"
