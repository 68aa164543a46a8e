"""The trainer: a step budget (default from the data size), reproducible, callbacks at every validation
pass, model selection on validation, early stopping, cancellation."""

import math

import pytest
import torch

from explorer.models import ModelConfig, build_model
from explorer.train import (
    EVALUATIONS,
    MAX_STEPS,
    MIN_STEPS,
    TrainConfig,
    default_steps,
    describe_budget,
    evaluate_loss,
    fit,
    resolve_steps,
)


def _train(digits, **kw):
    torch.manual_seed(123)  # the trainer must not depend on the global seed
    model = build_model(ModelConfig("mlp-ae", digits.image_shape, 4, hidden=(32,)))
    fit_idx, val_idx = digits.validation_split()
    logs = []
    result = fit(model, digits.images[fit_idx], digits.images[val_idx],
                 TrainConfig(**{"steps": 60, "batch_size": 128, **kw}), callbacks=[logs.append])
    return model, result, logs


def test_default_budget_counts_steps_from_the_data_size():
    # few images still get enough steps; many images get more, up to a cap
    assert default_steps(1_000, 64) == MIN_STEPS
    assert MIN_STEPS < default_steps(200_000, 64) <= MAX_STEPS
    assert default_steps(1_000_000, 64) == MAX_STEPS
    budgets = [default_steps(n, 64) for n in (1_000, 10_000, 100_000)]
    assert budgets == sorted(budgets)
    assert resolve_steps(TrainConfig(steps=500), 10_000) == 500
    assert resolve_steps(TrainConfig(epochs=3, batch_size=100), 1_001) == 3 * 11
    assert "default for this data size" in describe_budget(TrainConfig(), 1_000)
    assert "3,000 steps" in describe_budget(TrainConfig(), 1_000)


def test_reproducible_with_a_seed(digits):
    a, _, _ = _train(digits, seed=1)
    b, _, _ = _train(digits, seed=1)
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(v, w), k


def test_callback_sees_every_validation_pass_and_loss_falls(digits):
    _, result, logs = _train(digits, steps=90)
    every = math.ceil(90 / EVALUATIONS)
    assert [log.step for log in logs] == list(range(every, 91, every))
    assert result.steps == 90 and all(log.steps == 90 for log in logs)
    assert logs[-1].val_loss < logs[0].val_loss
    assert logs[-1].epoch == 90 * 128 / len(digits.validation_split()[0])
    assert all("recon" in log.terms for log in logs)
    assert result.history == logs and result.seconds > 0


def test_epochs_give_the_same_steps_as_counting_batches(digits):
    _, result, _ = _train(digits, steps=None, epochs=2)
    assert result.steps == 2 * math.ceil(len(digits.validation_split()[0]) / 128)


def test_cancellation_stops_after_the_pass(digits):
    model = build_model(ModelConfig("mlp-ae", digits.image_shape, 4, hidden=(32,)))
    seen = []
    result = fit(model, digits.x_train, digits.x_test, TrainConfig(steps=300),
                 callbacks=[lambda log: seen.append(log.step) or len(seen) == 3])
    assert result.cancelled and seen == [10, 20, 30]


def test_early_stopping_keeps_the_best_weights_on_validation(digits):
    # 20 training digits and a wide model overfit: the validation loss is best early, then gets worse.
    torch.manual_seed(0)
    fit_idx, val_idx = digits.validation_split()
    model = build_model(ModelConfig("mlp-ae", digits.image_shape, 16, hidden=(256,)))
    logs = []
    result = fit(model, digits.images[fit_idx[:20]], digits.images[val_idx],
                 TrainConfig(steps=600, batch_size=20, lr=3e-3, patience=5), callbacks=[logs.append])
    assert result.stopped_early and len(logs) < EVALUATIONS
    best = min(logs, key=lambda log: log.val_loss)
    assert result.best_step == best.step < logs[-1].step
    assert best.val_loss < 0.95 * logs[-1].val_loss  # the last weights are clearly worse than the best
    returned = evaluate_loss(model, digits.images[val_idx])["loss"]
    assert returned == pytest.approx(best.val_loss, rel=1e-4)  # the model handed back is the best pass's


def test_validation_is_carved_from_the_training_split(digits):
    fit_idx, val_idx = digits.validation_split()
    assert set(fit_idx) | set(val_idx) == set(digits.train_idx)
    assert not set(fit_idx) & set(val_idx) and not set(val_idx) & set(digits.test_idx)
    assert len(val_idx) == round(0.1 * len(digits.train_idx))
    assert set(digits.labels[val_idx]) == set(digits.labels)  # stratified


def test_uint8_images_train_like_floats(digits):
    fit_idx, val_idx = digits.validation_split()
    as_uint8 = (digits.images[:] * 255).round().to(torch.uint8)
    runs = []
    for images in (as_uint8, as_uint8.float() / 255):
        torch.manual_seed(0)
        model = build_model(ModelConfig("mlp-ae", digits.image_shape, 4, hidden=(32,)))
        runs.append(fit(model, images[fit_idx], images[val_idx], TrainConfig(steps=30)).history[-1].val_loss)
    assert abs(runs[0] - runs[1]) < 1e-4 * abs(runs[1])


def test_the_validated_weights_are_the_moving_average(digits):
    fit_idx, val_idx = digits.validation_split()
    for ema in (0.0, 0.995):
        model = build_model(ModelConfig("mlp-ae", digits.image_shape, 4, hidden=(32,)))
        same = []

        def check(log, model=model, same=same):
            pairs = zip(log.validated.parameters(), model.parameters())
            same.append(all(torch.equal(a, b) for a, b in pairs))

        fit(model, digits.images[fit_idx], digits.images[val_idx], TrainConfig(steps=60, ema=ema), [check])
        assert all(same) if ema == 0 else not any(same)


def test_conv_models_train_channels_last_and_come_back_contiguous(digits):
    model = build_model(ModelConfig("conv-ae", digits.image_shape, 4))
    layouts = []
    fit(model, digits.x_train, digits.x_test, TrainConfig(steps=20),
        [lambda log: layouts.append(log.validated.encoder[0].weight.is_contiguous(memory_format=torch.channels_last))])
    assert all(layouts)
    assert all(p.is_contiguous() for p in model.parameters())
