"""Variational autoencoder: Gaussian encoder, reparameterisation, Bernoulli decoder, beta * KL."""

import torch

from explorer.models.backbones import make_pair
from explorer.models.base import Autoencoder, bce_logits, register


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per sample, summed over code units: (B, d) -> (B,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)


@register("vae")
class VAE(Autoencoder):
    def __init__(self, config):
        super().__init__(config)
        self.encoder, self.decoder = make_pair(config, 2 * config.dim)  # encoder -> (mu, logvar)

    def posterior(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)  # (B, d) each
        return mu, logvar.clamp(-12, 8)

    def encode(self, x):
        return self.posterior(x)[0]  # the posterior mean

    def decode(self, z):
        return torch.sigmoid(self.decoder(z))

    def sample(self, n: int, generator=None):
        z = torch.randn(n, self.dim, generator=generator, device=next(self.parameters()).device)
        return self.decode(z)

    def loss(self, x):
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()  # reparameterisation
        recon = bce_logits(self.decoder(z), x)
        kl = gaussian_kl(mu, logvar).mean()
        return {"loss": recon + self.config.beta * kl, "recon": recon, "kl": kl, "elbo": -(recon + kl)}
