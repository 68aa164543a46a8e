"""Latent Explorer: see and use what an autoencoder learns."""

__version__ = "0.1.0"
