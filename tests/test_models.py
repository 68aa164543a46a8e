"""Every model family: shapes, the loss falls, save -> load gives identical outputs; each method's defining property."""

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles

from explorer.checkpoints import load_checkpoint, save_checkpoint
from explorer.errors import ExplorerError
from explorer.evaluate import evaluate_model
from explorer.models import MODELS, ModelConfig, build_model
from explorer.models.vae import gaussian_kl
from explorer.noise import corrupt
from explorer.pipeline import fit_pca
from explorer.train import TrainConfig, fit

TRAINABLE = [f for f, cls in MODELS.items() if not cls.baseline]


def takes(family: str, option: str) -> bool:
    return option in {o.name for o in MODELS[family].options}


@pytest.mark.parametrize("family", list(MODELS))
@pytest.mark.parametrize("shape,backbone", [((1, 28, 28), "mlp"), ((1, 28, 28), "conv"), ((3, 32, 32), "conv"),
                                            ((1, 8, 8), "mlp")])
def test_shapes(family, shape, backbone):
    settings = {"backbone": backbone} if takes(family, "backbone") else {}  # mlp-ae and conv-ae fix their own
    model = build_model(ModelConfig.create(family, shape, 5, **settings))
    x = torch.rand(3, *shape)
    if family == "pca":
        model.fit(torch.rand(20, *shape))
    z = model.encode(x)
    assert z.shape == (3, 5)
    assert model.decode(z).shape == (3, *shape)
    assert torch.isfinite(model.loss(x)["loss"])


def test_conv_fc_layers_sit_between_convolutions_and_code():
    plain = build_model(ModelConfig.create("conv-ae", (1, 28, 28), 8))
    deeper = build_model(ModelConfig.create("conv-ae", (1, 28, 28), 8, conv_fc=(64,)))
    x = torch.rand(2, 1, 28, 28)
    assert deeper.encode(x).shape == (2, 8) and deeper.decode(deeper.encode(x)).shape == x.shape
    n_linear = lambda m: sum(isinstance(layer, torch.nn.Linear) for layer in m.modules())  # noqa: E731
    assert n_linear(deeper) == n_linear(plain) + 2


@pytest.mark.parametrize("family", TRAINABLE)
def test_loss_falls_on_a_small_batch(family, digits):
    torch.manual_seed(0)
    model = build_model(ModelConfig.create(family, digits.image_shape, 4))
    x = digits.x_train[:64]
    before = model.loss(x)["loss"].item()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        opt.zero_grad()
        model.loss(x)["loss"].backward()
        opt.step()
    assert model.loss(x)["loss"].item() < 0.7 * before


@pytest.mark.parametrize("family", list(MODELS))
def test_save_load_gives_identical_outputs(family, digits, tmp_path):
    settings = {"backbone": "conv"} if family == "vae" else {}
    model = build_model(ModelConfig.create(family, digits.image_shape, 3, **settings))
    if family == "pca":
        model.fit(digits.x_train)
    path = save_checkpoint(model, tmp_path / f"{family}-d3", {"dataset": "digits"})
    loaded, config = load_checkpoint(path, digits.image_shape)
    x = digits.x_test[:10]
    model.eval()
    assert torch.equal(model.encode(x), loaded.encode(x))
    assert torch.equal(model.decode(model.encode(x)), loaded.decode(loaded.encode(x)))
    assert config["dataset"] == "digits" and config["model"]["family"] == family


def test_pca_is_sklearn_pca(digits):
    from sklearn.decomposition import PCA

    ours = fit_pca(digits, 6)
    flat = digits.x_train.reshape(len(digits.x_train), -1).numpy()
    theirs = PCA(6).fit(flat)
    x = digits.x_test.reshape(len(digits.x_test), -1).numpy()
    np.testing.assert_allclose(np.abs(ours.encode(digits.x_test).numpy()), np.abs(theirs.transform(x)), atol=1e-4)
    rec = ours.decode(ours.encode(digits.x_test)).reshape(len(x), -1).numpy()
    np.testing.assert_allclose(rec, theirs.inverse_transform(theirs.transform(x)), atol=1e-4)


def test_linear_ae_matches_pca(digits):
    """A linear autoencoder trained on squared error reaches PCA's error and spans PCA's subspace."""
    # d = 4 sits at a wide eigenvalue gap (lambda_4 / lambda_5 = 1.45), so the subspace is well defined.
    torch.manual_seed(0)
    model = build_model(ModelConfig.create("linear-ae", digits.image_shape, 4))
    fit(model, digits.x_train, digits.x_test, TrainConfig(epochs=200, batch_size=64, lr=1e-2))
    pca = fit_pca(digits, 4)
    ae_err, pca_err = evaluate_model(model, digits)["recon_sse"], evaluate_model(pca, digits)["recon_sse"]
    assert ae_err <= 1.02 * pca_err
    angles = np.degrees(subspace_angles(model.decoder.weight.detach().numpy(), pca.components_.T.numpy()))
    assert angles.max() < 5, angles  # the same subspace: principal angles near zero


def test_sparse_ae_penalty_makes_codes_sparse(digits):
    def sparsity(weight):
        model = build_model(ModelConfig.create("sparse-ae", digits.image_shape, 64, l1_weight=weight, top_k=0))  # ReLU
        fit(model, digits.x_train, digits.x_test, TrainConfig(epochs=25, batch_size=64))
        return 1 - evaluate_model(model, digits)["active_fraction"]

    assert sparsity(0.5) > sparsity(0.0) + 0.2


def test_denoising_loss_targets_the_clean_input(digits):
    """The recon term equals the error of the output for the noisy input against the CLEAN input."""
    model = build_model(ModelConfig.create("denoising-ae", digits.image_shape, 4, noise="masking", noise_level=0.5))
    x = digits.x_train[:32]
    torch.manual_seed(7)
    loss = model.loss(x)["recon"]
    torch.manual_seed(7)
    noisy = corrupt(x, "masking", 0.5)
    logits = model.decoder(model.encode(noisy))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    clean_target = bce(logits, x, reduction="none").flatten(1).sum(1).mean()
    noisy_target = bce(logits, noisy, reduction="none").flatten(1).sum(1).mean()
    assert torch.allclose(loss, clean_target)
    assert not torch.allclose(loss, noisy_target)


@pytest.mark.parametrize("kind", ["gaussian", "salt-pepper", "masking"])
def test_noise_kinds(kind):
    x = torch.full((4, 1, 28, 28), 0.5)
    y = corrupt(x, kind, 0.3, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    changed = float((y != x).float().mean())
    assert (changed > 0.9) if kind == "gaussian" else (0.2 < changed < 0.4)


def test_vae_kl_matches_torch_distributions():
    torch.manual_seed(0)
    mu, logvar = torch.randn(5, 7), torch.randn(5, 7)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(gaussian_kl(mu, logvar), expected, atol=1e-5)


@torch.no_grad()
def test_vae_encode_is_mean_and_samples_come_from_the_prior(digits):
    model = build_model(ModelConfig.create("vae", digits.image_shape, 3, beta=2.0)).eval()
    x = digits.x_test[:8]
    assert torch.equal(model.encode(x), model.posterior(x)[0])
    terms = model.loss(x)
    assert torch.allclose(terms["loss"], terms["recon"] + 2.0 * terms["kl"])
    samples = model.sample(6, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (6, 1, 8, 8) and 0 <= float(samples.min()) and float(samples.max()) <= 1


def test_vae_samples_with_the_posterior_std_and_reports_the_elbo_without_beta():
    """Reparameterisation: z = mu + eps * exp(logvar / 2) (std, not variance); the ELBO is -(recon + KL) in nats
    per image, whatever beta weights the KL in the loss being minimised."""
    torch.manual_seed(0)
    model = build_model(ModelConfig.create("vae", (1, 4, 4), 3, beta=3.0))
    x = torch.rand(4096, 1, 4, 4).round()
    mu, logvar = torch.full((4096, 3), 0.5), torch.full((4096, 3), float(np.log(4.0)))  # std 2, variance 4
    model.posterior = lambda _: (mu, logvar)
    seen, nll = {}, model.nll

    def recording_nll(z, xb):
        seen["z"] = z
        return nll(z, xb)

    model.nll = recording_nll
    with torch.no_grad():
        terms = model.loss(x)
    assert float(seen["z"].mean()) == pytest.approx(0.5, abs=0.05)
    assert float(seen["z"].std()) == pytest.approx(2.0, rel=0.03)
    kl = 0.5 * (0.25 + 4 - 1 - np.log(4.0)) * 3  # KL(N(0.5, 4) || N(0, 1)) summed over 3 units, in nats
    assert float(terms["kl"]) == pytest.approx(kl, rel=1e-5)
    with torch.no_grad():
        logits = model.decoder(seen["z"])
    recon = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)  # nats per image
    assert float(terms["recon"]) == pytest.approx(float(recon), rel=1e-5)
    assert float(terms["elbo"]) == pytest.approx(-(float(recon) + kl), rel=1e-5)  # no beta in the ELBO
    assert float(terms["loss"]) == pytest.approx(float(recon) + 3.0 * kl, rel=1e-5)


def test_active_fraction_and_dead_units_of_a_sparse_ae_built_to_have_them(digits):
    """Four ReLU units wired by hand: two never fire, one always fires, one fires when a pixel is bright."""
    model = build_model(ModelConfig.create("sparse-ae", digits.image_shape, 4, top_k=0))  # the ReLU code
    pixel = 27  # a central pixel of the 8 x 8 digits
    linear = torch.nn.Linear(64, 4)
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.copy_(torch.tensor([-1.0, 1.0, -0.5, -1.0]))
        linear.weight[2, pixel] = 1.0  # unit 2 fires when the pixel exceeds 0.5
    model.encoder = torch.nn.Sequential(torch.nn.Flatten(), linear)
    got = evaluate_model(model, digits)
    bright = float((digits.x_test.flatten(1)[:, pixel] > 0.5).float().mean())
    assert 0.1 < bright < 0.9
    assert got["dead_units"] == 2
    assert got["active_fraction"] == pytest.approx((1 + bright) / 4, abs=1e-6)


def test_top_k_code_keeps_each_images_k_largest_units():
    model = build_model(ModelConfig.create("sparse-ae", (1, 8, 8), 16)).eval()
    assert model.config.top_k == 4  # a quarter of the units by default
    torch.manual_seed(0)
    x = torch.rand(50, 1, 8, 8)
    h, z = model.encoder(x), model.encode(x)
    kept = z != 0
    assert (kept.sum(1) == 4).all()
    assert torch.equal(z[kept], h[kept])  # kept units keep their value and sign
    assert (h.abs()[kept].view(50, 4).min(1).values >= h.abs()[~kept].view(50, 12).max(1).values).all()


def test_top_k_starts_with_every_unit_and_reaches_k_after_a_quarter_of_the_budget():
    model = build_model(ModelConfig.create("sparse-ae", (1, 8, 8), 16, top_k=2)).train()
    x = torch.rand(10, 1, 8, 8)
    counts = []
    for fraction in (0.0, 0.125, 0.25, 0.9):
        model.set_progress(fraction)
        counts.append(int((model.encode(x) != 0).sum(1).max()))
    assert counts == [16, 9, 2, 2]
    model.set_progress(0.0)
    assert int((model.eval().encode(x) != 0).sum(1).max()) == 2  # evaluated with its own k, whatever the schedule


def test_a_trained_top_k_code_is_sparse_with_no_dead_unit(digits):
    """What the L1-only ReLU code failed at: at most a quarter of the units active per image, every unit used."""
    torch.manual_seed(0)
    model = build_model(ModelConfig.create("sparse-ae", digits.image_shape, 16, hidden=(128,)))
    fit(model, digits.x_train, digits.x_test, TrainConfig(steps=1500))
    got = evaluate_model(model, digits)
    assert got["active_fraction"] <= 0.25 and got["dead_units"] == 0, got


def test_sparse_config_checks_and_older_configs_keep_every_unit():
    old = {"family": "sparse-ae", "image_shape": [1, 8, 8], "dim": 16, "hidden": [256, 128], "channels": [32, 64, 128],
           "backbone": "mlp", "l1_weight": 0.001, "noise": "gaussian", "noise_level": 0.3, "beta": 1.0, "extra": {}}
    assert ModelConfig.from_dict(old).top_k == 0  # saved before top_k: the ReLU code it was trained with
    with pytest.raises(ExplorerError, match="top_k must be between 0"):
        build_model(ModelConfig.create("sparse-ae", (1, 8, 8), 16, top_k=17))
