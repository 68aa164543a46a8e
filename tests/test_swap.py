"""Decoder swap: pose measured from pixels, the shared-encoder swap keeps position, save/load."""

import numpy as np
import pytest
import torch

from explorer.datasets.sprites import BASE_RADIUS, image_keys, render
from explorer.errors import ExplorerError
from explorer.experiments.swap import (
    FLOOR,
    MIN_ANISOTROPY,
    SwapConfig,
    SwapRun,
    TwoDecoderAE,
    angle_difference,
    default_swap_dir,
    domain_factors,
    evaluate_swap,
    held_out_set,
    image_pose,
    load_swap,
    pose_errors,
    save_swap,
    training_pairs,
)
from explorer.train import fit


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
        turned = angle_difference(np.array([degrees]), np.array([0]))[0]
        assert angle_difference(a1, a0)[0] == pytest.approx(turned, abs=3)


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
    config = SwapConfig(n_train=8, n_test=6)
    assert len(TwoDecoderAE(config, shared=True).encoders) == 1
    assert len(TwoDecoderAE(config, shared=False).encoders) == 2
    pairs, val = training_pairs(config)  # (8, 2, 1, 32, 32), (3, 2, 1, 32, 32)
    assert pairs.shape == (8, 2, 1, 32, 32) and val.shape == (3, 2, 1, 32, 32)
    poses_a, poses_b = image_pose(pairs[:, 0]), image_pose(pairs[:, 1])
    assert not np.allclose(poses_a["x"], poses_b["x"], atol=1)  # the domains are drawn independently


@pytest.mark.slow
def test_shared_encoder_swap_keeps_position():
    config = SwapConfig.make(n_train=2000, n_test=200, epochs=12)  # heart -> ellipse: 8 epochs left it at 3.8 px
    torch.manual_seed(0)
    model = TwoDecoderAE(config, shared=True)
    untrained = TwoDecoderAE(config, shared=True)
    fit(model, *training_pairs(config), config.train)
    x_a, ideal = held_out_set(config)
    swapped, random_pose = pose_errors(model.swap(x_a), ideal), pose_errors(untrained.swap(x_a), ideal)
    assert swapped["position_px"] < 3.0, swapped
    assert swapped["position_px"] < 0.35 * random_pose["position_px"], (swapped, random_pose)


def test_default_pair_is_heart_to_ellipse_in_its_folder():
    config = SwapConfig()
    assert (config.shape_a, config.shape_b) == ("heart", "ellipse")
    assert default_swap_dir(root="r").parts[-1] == "swap-heart-ellipse"


def test_no_validation_or_held_out_sprite_is_a_training_sprite():
    """Drawn independently with replacement, 11 % of the held-out ideal ellipses were training ellipses."""
    config = SwapConfig()
    train, val = training_pairs(config)
    x_a, ideal_b = held_out_set(config)
    keys = {side: [set(image_keys(x[:, i].numpy())) for x in (train, val)] for i, side in enumerate("ab")}
    for side in "ab":
        train_keys, val_keys = keys[side]
        assert len(train_keys) == config.n_train and len(val_keys) == len(val)  # no image twice in a set
        assert not train_keys & val_keys, side
    held_a, held_b = set(image_keys(x_a.numpy())), set(image_keys(ideal_b.numpy()))
    assert len(held_a) == config.n_test
    assert not held_a & (keys["a"][0] | keys["a"][1])  # no held-out heart was trained or validated on
    assert not held_b & (keys["b"][0] | keys["b"][1])  # no ideal ellipse either (turned by 180 degrees included)


class _Identity:
    """Stands in for a trained model: every output is its input; records what reconstruct is asked."""

    def __init__(self):
        self.asked = []

    def swap(self, x):
        return x

    def reconstruct(self, x, domain=0):
        self.asked.append((x, domain))
        return x


def test_floor_row_is_the_target_against_itself_and_its_orientation_is_measurable():
    config = SwapConfig(n_test=200)
    model = _Identity()
    rows = evaluate_swap(model, _Identity(), config)["rows"]
    x_a, ideal_b = held_out_set(config)
    (asked, domain), = model.asked
    assert domain == 1 and torch.equal(asked, ideal_b)  # B's held-out images through B's decoder
    assert rows[FLOOR] == {"position_px": 0.0, "scale_px": 0.0, "scale_corr": pytest.approx(1.0), "angle_deg": 0.0,
                           "angle_n": 200, "pixel_sse": 0.0}  # compared with themselves: the target's own floor
    assert image_pose(ideal_b)["anisotropy"].min() > MIN_ANISOTROPY  # every ellipse's axis is measurable
    assert rows["swap (shared encoder)"]["angle_n"] == 200
    hearts = np.median(image_pose(x_a)["anisotropy"])
    assert hearts < 0.15 < image_pose(ideal_b)["anisotropy"].min()  # a heart's axis is weak: no target for angles


def test_save_load_round_trip(tmp_path):
    config = SwapConfig.make(n_train=8, n_test=4, epochs=1)
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
