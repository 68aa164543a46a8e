"""Reconstruction likelihoods: chosen from the pixels, each the negative log-likelihood it claims to be."""

import math

import pytest
import torch

from explorer.errors import ExplorerError
from explorer.models import ModelConfig, build_model
from explorer.models.likelihood import bernoulli_nll, choose_loss, gaussian_nll


def test_near_binary_pixels_get_bernoulli_and_smooth_ones_gaussian(mnist5k):
    assert choose_loss(mnist5k.x_train) == "bernoulli"
    assert choose_loss((mnist5k.x_train * 255).to(torch.uint8)) == "bernoulli"  # uint8 storage reads the same
    photo_like = torch.rand(50, 3, 16, 16) * 0.6 + 0.2
    assert choose_loss(photo_like) == "gaussian"
    assert choose_loss(photo_like, "bernoulli") == "bernoulli"  # an explicit choice wins
    with pytest.raises(ExplorerError, match="unknown loss"):
        choose_loss(photo_like, "poisson")


def test_nlls_match_torch_distributions():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 5, 5)
    logits = torch.randn(4, 1, 5, 5)
    expected = -torch.distributions.Bernoulli(logits=logits, validate_args=False).log_prob(x).flatten(1).sum(1).mean()
    assert torch.allclose(bernoulli_nll(logits, x), expected, atol=1e-5)
    mean, log_sigma = torch.rand(4, 1, 5, 5), torch.tensor(-1.3)
    expected = -torch.distributions.Normal(mean, log_sigma.exp()).log_prob(x).flatten(1).sum(1).mean()
    assert torch.allclose(gaussian_nll(mean, x, log_sigma), expected, atol=1e-4)


def test_gaussian_vae_learns_its_noise_scale_and_its_elbo_is_in_nats(digits):
    model = build_model(ModelConfig("vae", digits.image_shape, 4, loss="gaussian"))
    assert "log_sigma" in dict(model.named_parameters())
    x = digits.x_train[:64]
    terms = model.loss(x)
    assert torch.allclose(terms["elbo"], -(terms["recon"] + terms["kl"]))
    # the reconstruction term is -log N(x; decode(z), sigma^2 I) summed over the 64 pixels
    with torch.no_grad():
        torch.manual_seed(0)
        mu, logvar = model.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        sigma = model.log_sigma.exp()
        by_hand = (0.5 * ((model.decode(z) - x) / sigma) ** 2 + torch.log(sigma) + 0.5 * math.log(2 * math.pi))
        torch.manual_seed(0)
        assert torch.allclose(model.loss(x)["recon"], by_hand.flatten(1).sum(1).mean(), rtol=1e-5)


def test_bernoulli_models_keep_their_old_weights(digits):
    # checkpoints written before the loss option carry no log_sigma and load as Bernoulli models
    model = build_model(ModelConfig.from_dict({"family": "vae", "image_shape": [1, 8, 8], "dim": 2}))
    assert model.config.loss == "bernoulli" and "log_sigma" not in dict(model.named_parameters())
