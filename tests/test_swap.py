"""Decoder swap: pose measured from pixels, the shared-encoder swap keeps position, save/load."""

import numpy as np
import pytest
import torch

from explorer.datasets.sprites import BASE_RADIUS, render
from explorer.errors import ExplorerError
from explorer.experiments.swap import (SwapConfig, SwapRun, TwoDecoderAE, angle_difference, domain_factors,
                                       image_pose, load_swap, pose_errors, save_swap, held_out_set, training_pairs)
from explorer.train import TrainConfig, fit


def one(shape, **factors):
    base = {"scale": 1.0, "rotation": 0.0, "x": 0.5, "y": 0.5, **factors}
    f = domain_factors(shape, 1, 0)
    return torch.from_numpy(render({**f, **{k: np.array([v], np.float32) for k, v in base.items()}}, 32))


def test_pose_follows_the_known_factors():
    left, right = one("heart", x=0.0), one("heart", x=1.0)
    travel = (1 - 2 * BASE_RADIUS * 1.05) * 32  # pixels between x = 0 and x = 1 in the renderer
    dx = image_pose(right)["x"][0] - image_pose(left)["x"][0]
    assert dx == pytest.approx(travel, abs=0.3)
    dy = image_pose(one("heart", y=1.0))["y"][0] - image_pose(one("heart", y=0.0))["y"][0]  # rows grow downwards
    assert dy == pytest.approx(travel, abs=0.3)
    small, big = image_pose(one("ellipse", scale=0.5))["scale"][0], image_pose(one("ellipse", scale=1.0))["scale"][0]
    assert big / small == pytest.approx(2.0, rel=0.05)  # sqrt(area) is linear in scale
    for degrees in (20, 70, 130):  # an ellipse's axis turns with its rotation (mod 180)
        a0 = image_pose(one("ellipse", rotation=0.0))["angle"]
        a1 = image_pose(one("ellipse", rotation=np.radians(degrees)))["angle"]
        assert angle_difference(a1, a0)[0] == pytest.approx(angle_difference(np.array([degrees]), np.array([0]))[0], abs=3)


def test_square_orientation_is_undefined_and_skipped():
    assert image_pose(one("square", rotation=0.3))["anisotropy"][0] < 0.03
    errors = pose_errors(one("square", rotation=0.3), one("square", rotation=0.9))
    assert errors["angle_n"] == 0 and np.isnan(errors["angle_deg"])


def test_pose_errors_zero_on_identity_and_large_when_shuffled():
    x_a, ideal = held_out_set(SwapConfig(n_test=200))
    assert pose_errors(ideal, ideal) == {"position_px": 0.0, "scale_px": 0.0, "scale_corr": pytest.approx(1.0),
                                         "angle_deg": 0.0, "angle_n": 200, "pixel_sse": 0.0}
    shuffled = pose_errors(ideal[torch.randperm(200, generator=torch.Generator().manual_seed(0))], ideal)
    assert shuffled["position_px"] > 6 and shuffled["angle_deg"] > 30
    assert pose_errors(torch.zeros_like(ideal), ideal)["position_px"] == pytest.approx(32 / np.sqrt(2))


def test_config_rejects_bad_shapes():
    with pytest.raises(ExplorerError, match="unknown sprite shape"):
        SwapConfig(shape_a="circle")
    with pytest.raises(ExplorerError, match="different"):
        SwapConfig(shape_a="heart", shape_b="heart")


def test_shared_model_has_one_encoder_and_unpaired_batches():
    config = SwapConfig(n_train=8)
    assert len(TwoDecoderAE(config, shared=True).encoders) == 1
    assert len(TwoDecoderAE(config, shared=False).encoders) == 2
    pairs = training_pairs(config, 8, 0)  # (8, 2, 1, 32, 32)
    assert pairs.shape == (8, 2, 1, 32, 32)
    poses_a, poses_b = image_pose(pairs[:, 0]), image_pose(pairs[:, 1])
    assert not np.allclose(poses_a["x"], poses_b["x"], atol=1)  # the domains are drawn independently


@pytest.mark.slow
def test_shared_encoder_swap_keeps_position():
    config = SwapConfig(n_train=2000, n_test=200, epochs=8)
    torch.manual_seed(0)
    model = TwoDecoderAE(config, shared=True)
    untrained = TwoDecoderAE(config, shared=True)
    fit(model, training_pairs(config, config.n_train, 0), training_pairs(config, 100, 5),
        TrainConfig(epochs=config.epochs, batch_size=64, lr=2e-3, device="cpu"))
    x_a, ideal = held_out_set(config)
    swapped, random_pose = pose_errors(model.swap(x_a), ideal), pose_errors(untrained.swap(x_a), ideal)
    assert swapped["position_px"] < 3.0, swapped
    assert swapped["position_px"] < 0.35 * random_pose["position_px"], (swapped, random_pose)


def test_save_load_round_trip(tmp_path):
    config = SwapConfig(n_train=8, n_test=4, epochs=1)
    run = SwapRun(config, TwoDecoderAE(config, True), TwoDecoderAE(config, False), {"rows": {}, "n_test": 4})
    out = save_swap(run, tmp_path / config.name)
    assert sorted(p.name for p in out.iterdir()) == ["baseline.safetensors", "config.json", "model.safetensors",
                                                     "results.json"]
    back = load_swap(out)
    x_a, _ = held_out_set(config)
    assert torch.equal(back.model.swap(x_a), run.model.swap(x_a))
    assert torch.equal(back.baseline.swap(x_a), run.baseline.swap(x_a))
    (out / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ExplorerError, match="corrupt"):
        load_swap(out)
    with pytest.raises(ExplorerError, match="no decoder-swap model"):
        load_swap(tmp_path / "missing")
