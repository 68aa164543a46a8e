"""Pre-training: labelled subsets, stored results, and the defining property on a small real run."""

from dataclasses import replace

import numpy as np
import pytest

from explorer.checkpoints import save_checkpoint
from explorer.errors import ExplorerError
from explorer.experiments.base import load_run
from explorer.experiments.pretrain import (
    PretrainConfig,
    accuracy_curve,
    gap,
    labelled_subset,
    load_results,
    run_pretrain,
    save_results,
    summary,
)
from explorer.models import ModelConfig, build_model
from explorer.train import TrainConfig, fit


def test_labelled_subset_is_balanced_and_seeded():
    y = np.repeat(np.arange(10), 40)
    a, b, c = labelled_subset(y, 5, seed=0), labelled_subset(y, 5, seed=0), labelled_subset(y, 5, seed=1)
    assert len(a) == 50 and np.array_equal(np.bincount(y[a]), [5] * 10)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len(labelled_subset(y, None)) == len(y)
    assert len(labelled_subset(y, 100)) == len(y)  # capped at what each class has


@pytest.fixture(scope="module")
def small(mnist5k):
    """2,000 real MNIST training digits, every other one (the autoencoder sees no labels) and 500 held-out ones."""
    return replace(mnist5k, train_idx=mnist5k.train_idx[::2], test_idx=mnist5k.test_idx[::2])


@pytest.fixture(scope="module")
def pretrained(small):
    model = build_model(ModelConfig("mlp-ae", small.image_shape, 16, hidden=(256,)))
    fit(model, small.x_train, small.x_test, TrainConfig(epochs=10, batch_size=32, lr=2e-3))
    return model


@pytest.fixture(scope="module")
def frame(pretrained, small):
    return run_pretrain(pretrained, small, labels_per_class=(10,), seeds=(0, 1), steps=150)


def test_pretraining_beats_random_init_at_few_labels(frame):
    table = summary(frame)
    assert list(table.index) == ["10"] and len(frame) == 8  # 2 inits x 2 modes x 2 seeds
    g = gap(frame, 10)
    assert g["frozen"] > 0.2, table  # a linear probe on learnt codes vs on random features
    assert g["fine-tuned"] > -0.03, table  # same network and recipe: starting pre-trained does not hurt
    assert table.loc["10", "pre-trained, frozen"] > 0.6, table
    assert set(frame.n_labels) == {100}


def test_accuracy_curve_is_the_mean_and_spread_over_label_draws(frame):
    curve = accuracy_curve(frame)
    assert len(curve) == 4  # one budget x 2 inits x 2 modes
    row = curve[(curve["init"] == "pre-trained") & (curve["mode"] == "frozen")].iloc[0]
    draws = frame[(frame["init"] == "pre-trained") & (frame["mode"] == "frozen")]["accuracy"]
    assert row["mean"] == pytest.approx(draws.mean()) and row["std"] == pytest.approx(draws.std())
    assert row["classifier"] == "pre-trained, frozen"
    assert summary(frame).loc["10", "pre-trained, frozen"] == pytest.approx(row["mean"])


def test_a_cancelled_run_stops(pretrained, small):
    with pytest.raises(ExplorerError, match="cancelled"):
        run_pretrain(pretrained, small, labels_per_class=(1,), seeds=(0,), steps=5, progress=lambda *report: True)


def test_results_are_stored_beside_the_checkpoint(frame, pretrained, tmp_path):
    ckpt = save_checkpoint(pretrained, tmp_path / "mlp-ae-d16", {"dataset": "mnist5k"})
    assert load_results(ckpt) is None
    path = save_results(frame, ckpt, PretrainConfig.make(steps=150, seeds=2))
    assert path == ckpt / "pretrain" and not list(ckpt.glob(".pretrain.tmp-*"))
    assert load_results(ckpt).equals(frame)
    assert PretrainConfig.from_dict(load_run(path, "pretrain").config).train.steps == 150
    save_checkpoint(build_model(pretrained.config), ckpt)  # other weights: the stored result is stale
    assert load_results(ckpt) is None


def test_pca_and_unlabelled_data_are_clear_errors(small):
    pca = build_model(ModelConfig("pca", small.image_shape, 4)).fit(small.x_train[:100])
    with pytest.raises(ExplorerError, match="encoder"):
        run_pretrain(pca, small)
    model = build_model(ModelConfig("mlp-ae", small.image_shape, 4, hidden=(8,)))
    with pytest.raises(ExplorerError, match="no labels"):
        run_pretrain(model, replace(small, labels=None))
