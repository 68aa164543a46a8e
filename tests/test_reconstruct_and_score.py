"""reconstruct_and_score (Overview and Latent map strips): the reconstructions and each image's error agree with
the batch scorer, and the capability flags say which model is the baseline and which samples a prior."""

import numpy as np
import torch

from explorer.evaluate import reconstruct_and_score, reconstruction_errors
from explorer.metrics import recon_sse
from explorer.models import ModelConfig, build_model


def test_errors_match_the_batch_scorer_and_full_rank_pca_is_exact():
    torch.manual_seed(0)
    x = torch.rand(12, 1, 4, 4)
    pca = build_model(ModelConfig("pca", (1, 4, 4), 16))
    pca.fit(x)
    x_hat, errors = reconstruct_and_score(pca, x)
    assert x_hat.shape == x.shape and errors.shape == (12,)
    assert errors.max() < 1e-6  # 16 components of 16 pixels: nothing lost
    small = build_model(ModelConfig("pca", (1, 4, 4), 2))
    small.fit(x)
    x_hat, errors = reconstruct_and_score(small, x)
    np.testing.assert_allclose(errors, reconstruction_errors(small, x), rtol=1e-5)
    assert abs(errors.mean() - recon_sse(x_hat, x)) < 1e-5 and errors.min() > 0


def test_capabilities_name_the_baseline_and_the_prior():
    shape = (1, 4, 4)
    pca, vae, ae = (build_model(ModelConfig(f, shape, 2)) for f in ("pca", "vae", "mlp-ae"))
    assert pca.baseline and not vae.baseline and not ae.baseline
    assert vae.samples_prior and hasattr(vae, "sample") and not pca.samples_prior and not ae.samples_prior
