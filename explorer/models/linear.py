"""Linear autoencoder: one linear map down, one up, squared error. Its optimum spans PCA's subspace."""

from torch import nn

from explorer.models.base import Autoencoder, register


@register("linear-ae")
class LinearAE(Autoencoder):
    order = 10
    def __init__(self, config):
        super().__init__(config)
        self.encoder = nn.Linear(config.n_pixels, config.dim)
        self.decoder = nn.Linear(config.dim, config.n_pixels)

    def encode(self, x):
        return self.encoder(x.flatten(1))

    def decode(self, z):  # no squashing: the linear model must be able to reach PCA exactly
        return self.decoder(z).view(len(z), *self.config.image_shape)
