"""DC-IGN: the clamp (forward exactly constant, backward = explicit penalty), one-factor batches, MIG."""

import numpy as np
import pytest
import torch

from explorer.datasets.sprites import FACTOR_NAMES, image_keys
from explorer.errors import ExplorerError
from explorer.experiments.disentangle import (
    DISENTANGLE_MODELS,
    ClampToMean,
    DisentangleConfig,
    clamp_penalty,
    dcign_loss,
    eval_set,
    free_mask,
    group_mig,
    load_disentangle,
    mig,
    one_factor_batches,
    save_disentangle,
    train_disentangle,
    traversal,
    unit_layout,
    unit_names,
    validation_set,
)
from explorer.train import evaluate_loss


def test_unit_layout():
    units = {"shape": 2, "scale": 1, "x": 1}
    assert unit_layout(units) == {"shape": [0, 1], "scale": [2], "x": [3]}
    assert unit_names(units) == ["shape 1", "shape 2", "scale", "x"]
    assert free_mask(unit_layout(units), "shape", 4).tolist() == [True, True, False, False]
    with pytest.raises(ExplorerError):
        DisentangleConfig(factor_units={"colour": 1})


def test_clamped_units_are_exactly_constant_in_the_forward_pass():
    z = torch.randn(16, 5)
    free = torch.tensor([True, False, False, True, False])
    out = ClampToMean.apply(z, free, 1.0)
    assert torch.equal(out[:, free], z[:, free])  # free units pass through untouched
    clamped = out[:, ~free]
    assert torch.equal(clamped, clamped[:1].expand_as(clamped))  # every row identical, bit for bit
    assert torch.allclose(clamped[0], z[:, ~free].mean(0))


def test_clamp_gradient_is_the_deviation_from_the_mean_and_equals_the_explicit_penalty():
    torch.manual_seed(0)
    free = torch.tensor([True, False, True, False])
    decoder = torch.nn.Linear(4, 6)
    target = torch.randn(8, 6)
    weight = 3.0
    z1 = torch.randn(8, 4, requires_grad=True)
    ((decoder(ClampToMean.apply(z1, free, weight)) - target) ** 2).sum().backward()
    # the same thing written as: decode with the detached mean, plus an explicit penalty
    z2 = z1.detach().clone().requires_grad_(True)
    mean = z2.mean(0, keepdim=True).detach()
    seen = torch.where(free, z2, mean.expand_as(z2))
    (((decoder(seen) - target) ** 2).sum() + clamp_penalty(z2, free, weight)).backward()
    assert torch.allclose(z1.grad, z2.grad, atol=1e-6)
    # clamped units: only the pull to the mean, whatever the reconstruction wanted
    deviation = z1.detach() - z1.detach().mean(0)
    assert torch.allclose(z1.grad[:, ~free], weight * deviation[:, ~free] / 8, atol=1e-6)
    # free units: the ordinary reconstruction gradient
    z3 = z1.detach().clone().requires_grad_(True)
    ((decoder(torch.where(free, z3, mean.expand_as(z3))) - target) ** 2).sum().backward()
    assert torch.allclose(z1.grad[:, free], z3.grad[:, free], atol=1e-6)


def test_gradient_steps_shrink_the_spread_of_clamped_units():
    z = torch.randn(32, 3, requires_grad=True)
    free = torch.tensor([True, False, False])
    opt = torch.optim.SGD([z], lr=1.0)
    before = z.detach()[:, 1:].std(0)
    for _ in range(20):
        opt.zero_grad()
        ClampToMean.apply(z, free, 10.0).sum().backward()  # constant downstream gradient
        opt.step()
    assert (z.detach()[:, 1:].std(0) < 0.01 * before).all()


def test_one_factor_batches_vary_only_their_factor():
    images, varying, values = one_factor_batches(10, 16, size=32, seed=1)
    assert images.shape == (10, 16, 1, 32, 32)
    assert varying[:5] == FACTOR_NAMES
    for i, name in enumerate(varying):
        for factor in FACTOR_NAMES:
            distinct = len(np.unique(values[factor][i]))
            assert distinct > 1 if factor == name else distinct == 1, (i, name, factor)
    assert not torch.equal(images[0, 0], images[0, 1])  # the varying factor shows in the pixels


def test_mig_is_one_for_a_disentangled_code_and_zero_for_a_random_one():
    rng = np.random.default_rng(0)
    factors = {name: rng.integers(0, 8, 4000) for name in ("a", "b", "c")}
    perfect = np.stack([factors[k] + rng.normal(0, 0.05, 4000) for k in factors] + [rng.normal(size=4000)], 1)
    score, gaps, mi = mig(perfect, factors)
    assert score > 0.9 and mi.shape == (3, 4)
    assert mig(rng.normal(size=(4000, 4)), factors)[0] < 0.02
    # a factor copied into two units is captured but not disentangled: its gap is ~0
    doubled = np.concatenate([perfect, perfect[:, :1]], axis=1)
    assert mig(doubled, factors)[1]["a"] < 0.02
    # a rotated (mixed) code scores far lower than the axis-aligned one
    mixed = perfect[:, :3] @ np.linalg.qr(rng.normal(size=(3, 3)))[0]
    assert mig(mixed, factors)[0] < 0.5 * score


def test_group_mig_scores_a_perfect_code_in_dcigns_layout_near_one_where_mig_cannot():
    """A factor that owns two units, each carrying half of it (its two binary digits), is perfectly
    disentangled; the MIG gives it ~0 (best unit minus its other unit), the group MIG ~1."""
    rng = np.random.default_rng(0)
    n = 4000
    factors = {"a": rng.integers(0, 4, n), "b": rng.integers(0, 8, n), "c": rng.integers(0, 3, n)}
    noise = lambda: rng.normal(0, 0.05, n)  # noqa: E731
    perfect = np.stack([factors["a"] // 2 + noise(), factors["a"] % 2 + noise(), factors["b"] + noise(),
                        factors["c"] + noise()], 1)
    layout = {"a": [0, 1], "b": [2], "c": [3]}
    score, gaps = group_mig(perfect, factors, layout)
    assert score > 0.9 and min(gaps.values()) > 0.85
    assert mig(perfect, factors)[1]["a"] < 0.05  # what MIG makes of the two-unit factor
    assert group_mig(perfect, factors, layout, fixed=False)[0] == pytest.approx(score)  # the best groups are these
    assert group_mig(rng.normal(size=(n, 4)), factors, layout)[0] < 0.05
    swapped = {"a": [2, 3], "b": [0], "c": [1]}  # the wrong groups for a model built to another layout
    assert group_mig(perfect, factors, swapped)[0] < 0.2


def test_dcign_loss_terms_and_tiny_run_round_trip(tmp_path):
    config = DisentangleConfig.make(n_batches=10, batch_size=16, epochs=1, n_eval=200)
    images, varying, _ = one_factor_batches(2, 16, seed=0)
    from explorer.experiments.disentangle import _vae

    model = _vae(config, 1.0)
    free = free_mask(unit_layout(config.factor_units), varying[0], config.dim)
    terms = dcign_loss(model, images[0], free, config.clamp_weight)
    assert set(terms) == {"loss", "recon", "kl", "clamp_penalty"} and torch.isfinite(terms["loss"])
    terms["loss"].backward()
    assert all(p.grad is not None for p in model.parameters())

    calls = []
    run = train_disentangle(config, progress=lambda stage, done, total: calls.append((stage, done, total)) and False)
    assert list(dict.fromkeys(stage for stage, _, _ in calls)) == ["dc-ign", "vae", "beta-vae"]
    assert calls[-1][1] == calls[-1][2]  # the last stage ran to its end
    assert run.models["beta-vae"].config.beta == config.beta and run.models["vae"].config.beta == 1.0
    for result in run.results["methods"].values():
        assert 0 <= result["mig"] <= 1 and np.array(result["mi"]).shape == (5, config.dim)
    out = save_disentangle(run, tmp_path / "disentangle")
    back = load_disentangle(out)
    x = images[1]
    for name, model in run.models.items():
        assert torch.equal(back.models[name].encode(x), model.encode(x))
    grid = traversal(back.models["dc-ign"], x[0], np.random.default_rng(0).normal(size=(50, config.dim)), steps=5)
    assert grid.shape == (config.dim, 5, 1, 32, 32)
    with pytest.raises(ExplorerError, match="no disentanglement results"):
        load_disentangle(tmp_path / "nothing")


def test_evaluation_and_validation_sprites_are_no_training_sprites():
    config = DisentangleConfig()
    images, _, _ = one_factor_batches(config.n_batches, config.train.batch_size, config.size, config.train.seed)
    train = set(image_keys(images.flatten(0, 1).numpy()))
    x_eval, _ = eval_set(config)
    evaluation, validation = set(image_keys(x_eval.numpy())), set(image_keys(validation_set(config).numpy()))
    assert len(evaluation) == config.n_eval and len(validation) == config.n_val  # distinct within each set
    assert not evaluation & train and not validation & train and not validation & evaluation


def test_one_recipe_for_all_three_models():
    """DC-IGN used to run its own loop (Adam, constant rate, last epoch) while the VAEs went through fit and
    were picked on their own training images; now all three share fit's recipe and a real validation split."""
    # lr 0.1: the validation passes vary
    config = DisentangleConfig.make(n_batches=10, batch_size=8, epochs=3, n_eval=100, n_val=60, lr=0.1)
    run = train_disentangle(config)
    recipes = {m: run.results["methods"][m]["recipe"] for m in DISENTANGLE_MODELS}
    shared = ("optimizer", "schedule", "lr", "steps", "ema", "images_per_step", "validation_images",
              "validation_passes", "weight_decay")
    for key in shared:
        assert len({str(r[key]) for r in recipes.values()}) == 1, (key, recipes)
    assert recipes["vae"]["steps"] == 30 and recipes["vae"]["validation_images"] == 60
    assert recipes["dc-ign"]["step_sample"] == "one one-factor batch"
    x_val = validation_set(config)
    for m, r in recipes.items():
        kept = evaluate_loss(run.models[m], x_val, seed=config.train.seed)["loss"]  # the same draws as fit's passes
        assert kept == pytest.approx(min(r["validation_losses"]), rel=1e-5), m
        assert r["best_validation_loss"] == min(r["validation_losses"])
        assert r["validation_losses"].index(min(r["validation_losses"])) == r["best_step"] - 1  # a pass per step
    assert any(r["best_step"] < r["steps"] for r in recipes.values())  # selection did pick, not just the last
