"""Deep autoencoders: fully connected (mlp-ae) and convolutional (conv-ae), sigmoid outputs.

They train on the likelihood in config.loss: binary cross-entropy on logits for near-binary images
(it keeps gradients alive where a sigmoid saturates), squared error for natural ones. Every model is
measured, whatever it trained on, by squared error.
"""

import torch

from explorer.models.backbones import make_pair
from explorer.models.base import Autoencoder, register
from explorer.models.likelihood import bernoulli_nll, sse


class DeepAE(Autoencoder):
    uses_loss = True

    def __init__(self, config):
        super().__init__(config)
        self.encoder, self.decoder = make_pair(config, config.dim)

    def encode(self, x):  # (B, C, H, W) -> (B, d)
        return self.encoder(x)

    def decode(self, z):  # (B, d) -> (B, C, H, W) in [0, 1]
        return torch.sigmoid(self.decoder(z))

    def recon_loss(self, z, target):
        logits = self.decoder(z)
        if self.config.loss == "gaussian":
            return sse(torch.sigmoid(logits), target)
        return bernoulli_nll(logits, target)

    def loss(self, x):
        recon = self.recon_loss(self.encode(x), x)
        return {"loss": recon, "recon": recon}


# Weight decay regularises the plain autoencoders, which have nothing else against memorising a few
# thousand images; the denoising and variational families and an L1-only sparse code carry their own
# regulariser (noise, KL, L1), and decay on top of it cost them held-out error on mnist5k. A top-k sparse
# code has none and decays (explorer.models.sparse). The linear AE's optimum is PCA's.
@register("mlp-ae")
class MLPAE(DeepAE):
    order = 20
    backbone = "mlp"
    decays = True


@register("conv-ae")
class ConvAE(DeepAE):
    order = 25
    backbone = "conv"
    decays = True
