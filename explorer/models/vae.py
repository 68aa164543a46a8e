"""Variational autoencoder: Gaussian encoder, reparameterisation, beta * KL, and a decoder likelihood
that fits the data: Bernoulli for near-binary images, or a Gaussian with one learned scale sigma for
natural ones (the "sigma-VAE" of Rybkin et al., 2021). Either way the ELBO is in nats per image."""

import torch
from torch import nn

from explorer.models.backbones import make_pair
from explorer.models.base import Autoencoder, register
from explorer.models.likelihood import bernoulli_nll, gaussian_nll


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per sample, summed over code units: (B, d) -> (B,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)


@register("vae")
class VAE(Autoencoder):
    samples_prior = True

    def __init__(self, config):
        super().__init__(config)
        self.encoder, self.decoder = make_pair(config, 2 * config.dim)  # encoder -> (mu, logvar)
        if config.loss == "gaussian":
            self.log_sigma = nn.Parameter(torch.tensor(-2.0))  # the decoder's pixel noise, learned with the rest

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

    def nll(self, z, x):
        """-log p(x | z) per image, averaged over the batch, in nats."""
        logits = self.decoder(z)
        if self.config.loss == "gaussian":
            return gaussian_nll(torch.sigmoid(logits), x, self.log_sigma.clamp(-7, 1))
        return bernoulli_nll(logits, x)

    def loss(self, x):
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()  # reparameterisation
        recon = self.nll(z, x)
        kl = gaussian_kl(mu, logvar).mean()
        return {"loss": recon + self.config.beta * kl, "recon": recon, "kl": kl, "elbo": -(recon + kl)}
