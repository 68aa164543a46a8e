"""Denoising autoencoder: corrupt the input, reconstruct the CLEAN image."""

from explorer.models.base import register
from explorer.models.mlp import DeepAE
from explorer.noise import corrupt


@register("denoising-ae")
class DenoisingAE(DeepAE):
    backbone = None  # config.backbone decides

    def loss(self, x):
        noisy = corrupt(x, self.config.noise, self.config.noise_level)
        recon = self.recon_loss(self.encode(noisy), x)  # the target is the clean x, never the noisy input
        return {"loss": recon, "recon": recon}
