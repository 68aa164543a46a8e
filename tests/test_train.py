"""The trainer: reproducible, callbacks, held-out loss every epoch, early stopping, cancellation."""

import torch

from explorer.models import ModelConfig, build_model
from explorer.train import TrainConfig, fit


def _train(digits, **kw):
    torch.manual_seed(123)  # the trainer must not depend on the global seed
    model = build_model(ModelConfig("mlp-ae", digits.image_shape, 4, hidden=(32,)))
    logs = []
    result = fit(model, digits.x_train, digits.x_test, TrainConfig(**{"epochs": 5, "batch_size": 128, **kw}),
                 callbacks=[logs.append])
    return model, result, logs


def test_reproducible_with_a_seed(digits):
    a, _, _ = _train(digits, seed=1)
    b, _, _ = _train(digits, seed=1)
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(v, w), k


def test_callback_sees_every_epoch_and_loss_falls(digits):
    _, result, logs = _train(digits, epochs=6)
    assert [log.epoch for log in logs] == list(range(1, 7))
    assert logs[-1].test_loss < logs[0].test_loss
    assert all("recon" in log.terms for log in logs)
    assert result.history == logs and result.seconds > 0


def test_cancellation_stops_after_the_epoch(digits):
    model = build_model(ModelConfig("mlp-ae", digits.image_shape, 4, hidden=(32,)))
    seen = []
    result = fit(model, digits.x_train, digits.x_test, TrainConfig(epochs=50),
                 callbacks=[lambda log: seen.append(log.epoch) or log.epoch == 3])
    assert result.cancelled and seen == [1, 2, 3]


def test_early_stopping_keeps_the_best_weights(digits):
    # A learning rate far too high makes held-out loss stop improving quickly.
    _, result, logs = _train(digits, epochs=40, lr=0.5, patience=2)
    assert result.stopped_early and len(logs) < 40
    assert result.best_epoch == min(range(1, len(logs) + 1), key=lambda e: logs[e - 1].test_loss)
