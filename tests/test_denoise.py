"""Denoising: the metrics, the corruption protocol, and the defining property on a small real run."""

from dataclasses import replace

import pytest
import torch

from explorer.errors import ExplorerError
from explorer.experiments.denoise import NOISY, denoise, psnr, psnr_sweep, ssim
from explorer.models import ModelConfig, build_model
from explorer.train import TrainConfig, fit


def test_psnr_and_ssim_known_values():
    x = torch.rand(4, 1, 16, 16)
    assert psnr(x + 0.1, x.clamp(max=0.9)) == pytest.approx(20.0, abs=1e-3)  # MSE 0.01 -> 20 dB
    assert ssim(x, x) == pytest.approx(1.0)
    noisy = (x + 0.3 * torch.randn_like(x)).clamp(0, 1)
    assert ssim(noisy, x) < 0.9
    assert psnr(noisy, x) < psnr((x + 0.05 * torch.randn_like(x)).clamp(0, 1), x)


@pytest.fixture(scope="module")
def small(mnist5k):
    """2,000 real MNIST training digits (every other one, all classes) and 500 held-out ones: enough for the effect,
    seconds to train."""
    return replace(mnist5k, train_idx=mnist5k.train_idx[::2], test_idx=mnist5k.test_idx[::2])


@pytest.fixture(scope="module")
def trained(small):
    # Same MLP for both AEs; the denoiser sees gaussian noise 0.4 on its inputs, the plain AE clean ones.
    config = TrainConfig(epochs=10, batch_size=32, lr=2e-3, seed=0)
    fit_idx, val_idx = small.validation_split()
    x_fit, x_val = small.images[fit_idx], small.images[val_idx]
    models = {}
    for method, family, opts in (("denoising AE", "denoising-ae", {"noise": "gaussian", "noise_level": 0.4}),
                                 ("plain AE", "mlp-ae", {})):
        model = build_model(ModelConfig.create(family, small.image_shape, 16, hidden=(256,), **opts))
        fit(model, x_fit, x_val, config)  # chosen on validation: the held-out digits are only scored
        models[method] = model.cpu().eval()
    models["PCA"] = build_model(ModelConfig("pca", small.image_shape, 16)).fit(small.x_train)
    return models


def test_denoiser_beats_plain_ae_and_pca_on_noisy_input(trained, small):
    result = denoise(trained, small.x_test, "gaussian", 0.4, seed=0)
    p, s = result.psnr, result.ssim
    assert p["denoising AE"] > p["plain AE"] + 1.0, p  # dB
    assert p["denoising AE"] > p["PCA"], p
    assert p["denoising AE"] > p[NOISY] + 3.0, p  # it really removes noise
    assert s["denoising AE"] > s["plain AE"] and s["denoising AE"] > s[NOISY], s
    assert result.noisy.shape == result.clean.shape == result.outputs["PCA"].shape


def test_corruption_is_fixed_by_the_seed(trained, small):
    a = denoise(trained, small.x_test[:50], "salt-pepper", 0.2, seed=3, with_ssim=False)
    b = denoise(trained, small.x_test[:50], "salt-pepper", 0.2, seed=3, with_ssim=False)
    c = denoise(trained, small.x_test[:50], "salt-pepper", 0.2, seed=4, with_ssim=False)
    assert torch.equal(a.noisy, b.noisy) and not torch.equal(a.noisy, c.noisy)


def test_sweep_noisy_input_degrades_with_level(trained, small):
    frame = psnr_sweep(trained, small.x_test, "masking", levels=(0.1, 0.3, 0.6))
    noisy = frame[frame.method == NOISY].sort_values("level")["psnr"].tolist()
    assert noisy == sorted(noisy, reverse=True)
    assert set(frame.method) == {NOISY, "denoising AE", "plain AE", "PCA"} and len(frame) == 12


def test_bad_noise_is_one_clear_error(trained, small):
    with pytest.raises(ExplorerError, match="unknown noise"):
        denoise(trained, small.x_test[:4], "speckle", 0.1)
    with pytest.raises(ExplorerError, match="out of range"):
        denoise(trained, small.x_test[:4], "masking", 1.5)


def test_default_level_is_the_training_level_only_for_the_training_noise():
    from explorer.experiments.denoise import TYPICAL_LEVEL, default_level
    from explorer.models import ModelConfig, build_model

    denoiser = build_model(ModelConfig.create("denoising-ae", (1, 8, 8), 4, noise="gaussian", noise_level=0.45))
    assert default_level("gaussian", denoiser) == 0.45
    assert default_level("masking", denoiser) == TYPICAL_LEVEL["masking"] == 0.3  # a fraction, not a std
    assert default_level("salt-pepper", denoiser) == 0.2
