"""Decoder swap (the lecture's deep-fake scheme): one shared encoder, one decoder per domain.

Domain A is one sprite shape, domain B another, with the same factor ranges (scale, rotation, x, y).
Training reconstructs each domain through its own decoder, but both go through the SAME encoder, so
the code has to describe the pose in a way both decoders read. Encoding an A image and decoding it
with B's decoder then draws a B shape in A's pose. The baseline is two separately trained
autoencoders (A's encoder, B's decoder): their codes share no meaning, so the swap loses the pose.

Pose is measured from the images themselves (no network): centroid for x, y; the square root of the
area (sum of intensities) for scale; the principal axis of the second moments for the orientation.
The reference is the ideal swap, which the renderer gives us exactly: shape B drawn with the input's
factors. The default pair is heart -> ellipse. The input must carry its whole orientation: a heart has
none of the symmetries that would make the swap guess (an ellipse input looks the same turned by 180
degrees, so no swap could know which of two heart poses to draw). The target's orientation must be
measurable: an ellipse's second moments are strongly anisotropic, so its axis (modulo 180 degrees) is
well defined, where squares and equilateral triangles have isotropic moments and a heart's are weak.
Angles are compared only where the target is measurably anisotropic. The floor is the target's: B's
held-out images (the ideal swaps) through the shared encoder and B's decoder, against themselves.
Every set is drawn as distinct combinations: no validation or held-out sprite is a training sprite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from explorer.checkpoints import checkpoint_root
from explorer.datasets.sprites import SHAPES, distinct_factors, render, symmetric_copies
from explorer.errors import ExplorerError
from explorer.experiments.base import (
    Experiment,
    ExperimentConfig,
    as_progress,
    check_train,
    corrupt,
    load_run,
    register,
    save_run,
)
from explorer.models.backbones import make_pair
from explorer.models.base import ModelConfig
from explorer.models.likelihood import bernoulli_nll
from explorer.train import TrainConfig, fit

MIN_ANISOTROPY = 0.03  # below this the second-moment axis is noise (squares, triangles, blobs)
MIN_MASS = 1.0  # an output with less total intensity than one pixel has no pose to measure
FLOOR = "B reconstructed (shared encoder)"  # the achievable floor for the target shape
WEIGHTS, BASELINE_WEIGHTS = "model", "baseline"  # <key>.safetensors in the run folder


@dataclass
class SwapConfig(ExperimentConfig):
    shape_a: str = "heart"  # the input: oriented over the full 360 degrees
    shape_b: str = "ellipse"  # the target: its orientation (mod 180) is measurable from its moments
    dim: int = 16  # shared code size
    channels: tuple[int, ...] = (16, 32, 64)  # conv widths per stride-2 stage
    size: int = 32  # image side
    n_train: int = 4000  # images per domain
    n_test: int = 500  # held-out A images (and their ideal B renders); validation pairs: half as many
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=20, batch_size=64, lr=2e-3, device="cpu"))

    def __post_init__(self):
        self.channels = tuple(self.channels)
        for name in (self.shape_a, self.shape_b):
            if name not in SHAPES:
                raise ExplorerError(f"unknown sprite shape {name!r}; choose from {', '.join(SHAPES)}")
        if self.shape_a == self.shape_b:
            raise ExplorerError("the two domains must be different shapes")
        if min(self.dim, self.n_train, self.n_test) < 1:
            raise ExplorerError("dim, n_train and n_test must be positive")
        check_train(self.train)

    @property
    def name(self) -> str:
        return f"swap-{self.shape_a}-{self.shape_b}"


class TwoDecoderAE(nn.Module):
    """Encoder(s) and two decoders on the conv backbone. shared=True: one encoder for both domains
    (the swap model); shared=False: each domain its own encoder (two independent autoencoders)."""

    is_trainable = True  # explorer.train.fit trains it like any autoencoder

    def __init__(self, config: SwapConfig, shared: bool = True):
        super().__init__()
        self.config, self.shared = config, shared
        net = ModelConfig("conv-ae", (1, config.size, config.size), config.dim, channels=config.channels)
        enc_a, dec_a = make_pair(net, config.dim)
        enc_b, dec_b = make_pair(net, config.dim)
        # a ModuleList, not the same module under two names: safetensors refuses shared tensors
        self.encoders = nn.ModuleList([enc_a] if shared else [enc_a, enc_b])
        self.decoders = nn.ModuleList([dec_a, dec_b])

    def encode(self, x: torch.Tensor, domain: int) -> torch.Tensor:  # (B, 1, H, W) -> (B, d)
        return self.encoders[min(domain, len(self.encoders) - 1)](x)

    def decode(self, z: torch.Tensor, domain: int) -> torch.Tensor:  # (B, d) -> (B, 1, H, W)
        return torch.sigmoid(self.decoders[domain](z))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, 2, 1, H, W): column 0 an A image, column 1 an unrelated B image (unpaired domains)."""
        xa, xb = x[:, 0], x[:, 1]
        recon_a = bernoulli_nll(self.decoders[0](self.encode(xa, 0)), xa)
        recon_b = bernoulli_nll(self.decoders[1](self.encode(xb, 1)), xb)
        return {"loss": recon_a + recon_b, "recon_a": recon_a, "recon_b": recon_b}

    @torch.no_grad()
    def swap(self, x_a: torch.Tensor) -> torch.Tensor:
        """A images through A's encoder and B's decoder."""
        self.eval()
        return self.decode(self.encode(x_a, 0), 1)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, domain: int = 0) -> torch.Tensor:
        self.eval()
        return self.decode(self.encode(x, domain), domain)


# ----- data -----------------------------------------------------------------------------------

def domain_factors(shape: str, n: int, seed: int, exclude: dict | list[dict] = ()) -> dict[str, np.ndarray]:
    """n distinct factor combinations of one shape, none like those in exclude; scale, rotation and position
    from the full grid."""
    return distinct_factors(n, seed, exclude, shape)


def with_shape(factors: dict[str, np.ndarray], shape: str) -> dict[str, np.ndarray]:
    return {**factors, "shape": np.full(len(factors["shape"]), SHAPES.index(shape), dtype=np.float32)}


def _joined(*sets: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([f[k] for f in sets]) for k in sets[0]}


def swap_sets(config: SwapConfig) -> dict[str, dict[str, np.ndarray]]:
    """Factor combinations of every set: "train a", "train b", "val a", "val b" (validation pairs, n_test // 2)
    and "test" (held-out, shape A). The domains are unpaired: each drawn with its own seed. Validation
    combinations are no training ones; held-out ones are neither, on both sides: no held-out A image is an A
    training or validation image, and no ideal B image (B with the held-out factors) a B one, B's symmetry
    included (an ellipse turned by 180 degrees is the same ellipse)."""
    a, b, seed = config.shape_a, config.shape_b, config.train.seed
    n_val = max(config.n_test // 2, 1)
    sets = {"train a": domain_factors(a, config.n_train, seed), "train b": domain_factors(b, config.n_train, seed + 1)}
    sets["val a"] = domain_factors(a, n_val, seed + 500, sets["train a"])
    sets["val b"] = domain_factors(b, n_val, seed + 501, sets["train b"])
    seen_as_b = with_shape(symmetric_copies(_joined(sets["train b"], sets["val b"])), a)  # A poses drawn as seen Bs
    sets["test"] = domain_factors(a, config.n_test, seed + 1000, [sets["train a"], sets["val a"], seen_as_b])
    return sets


def _pairs(fa: dict[str, np.ndarray], fb: dict[str, np.ndarray], size: int) -> torch.Tensor:
    return torch.from_numpy(np.stack([render(fa, size), render(fb, size)], axis=1))


def training_pairs(config: SwapConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Training and validation pairs, each (n, 2, 1, H, W): A images beside independently drawn B images (the
    domains are unpaired)."""
    sets = swap_sets(config)
    return (_pairs(sets["train a"], sets["train b"], config.size), _pairs(sets["val a"], sets["val b"], config.size))


def held_out_set(config: SwapConfig, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Held-out A images and the ideal swap of each: shape B rendered with the same factors (the first n)."""
    factors = {k: v[:n] for k, v in swap_sets(config)["test"].items()}
    x_a = torch.from_numpy(render(factors, config.size))
    ideal_b = torch.from_numpy(render(with_shape(factors, config.shape_b), config.size))
    return x_a, ideal_b


# ----- pose from pixels -----------------------------------------------------------------------

def image_pose(images: torch.Tensor | np.ndarray) -> dict[str, np.ndarray]:
    """Per image (N, 1, H, W): centroid x, y (pixels), scale = sqrt(area) (pixels), principal-axis
    angle in degrees modulo 180, and anisotropy in [0, 1] (0: the axis is undefined)."""
    im = np.asarray(images.detach().cpu() if isinstance(images, torch.Tensor) else images, dtype=np.float64)[:, 0]
    rows, cols = np.mgrid[: im.shape[1], : im.shape[2]]
    mass = im.sum((1, 2))  # (N,)
    safe = np.maximum(mass, 1e-9)
    cx = (im * cols).sum((1, 2)) / safe
    cy = (im * rows).sum((1, 2)) / safe
    dx, dy = cols[None] - cx[:, None, None], -(rows[None] - cy[:, None, None])  # y up, like the renderer
    mu20, mu02, mu11 = ((im * dx**2).sum((1, 2)) / safe, (im * dy**2).sum((1, 2)) / safe,
                        (im * dx * dy).sum((1, 2)) / safe)
    angle = np.degrees(0.5 * np.arctan2(2 * mu11, mu20 - mu02)) % 180
    anisotropy = np.sqrt((mu20 - mu02) ** 2 + 4 * mu11**2) / np.maximum(mu20 + mu02, 1e-9)
    return {"x": cx, "y": cy, "scale": np.sqrt(mass), "angle": angle, "anisotropy": anisotropy, "mass": mass}


def angle_difference(a: np.ndarray, b: np.ndarray, period: float = 180.0) -> np.ndarray:
    """|a - b| on a circle of the given period (degrees)."""
    d = np.abs(a - b) % period
    return np.minimum(d, period - d)


def pose_errors(output: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    """Mean pose errors of output images against reference images (pixels; degrees mod 180), and the
    correlation of their sizes.
    An output with (almost) nothing drawn counts as missing its pose by the image's half-diagonal."""
    p, q = image_pose(output), image_pose(reference)
    side = output.shape[-1]
    drawn = p["mass"] >= MIN_MASS
    position = np.where(drawn, np.hypot(p["x"] - q["x"], p["y"] - q["y"]), side / np.sqrt(2))
    oriented = (q["anisotropy"] >= MIN_ANISOTROPY) & drawn
    angle = angle_difference(p["angle"], q["angle"])[oriented]
    out = output.detach().cpu().float()
    varies = p["scale"].std() > 1e-9 and q["scale"].std() > 1e-9
    return {
        "position_px": float(position.mean()),
        "scale_px": float(np.abs(p["scale"] - q["scale"]).mean()),
        # a size kept up to a constant factor still orders the sprites: the correlation shows it
        "scale_corr": float(np.corrcoef(p["scale"], q["scale"])[0, 1]) if varies else float("nan"),
        "angle_deg": float(angle.mean()) if len(angle) else float("nan"),
        "angle_n": int(oriented.sum()),
        "pixel_sse": float((out - reference.cpu().float()).pow(2).flatten(1).sum(1).mean()),
    }


# ----- train, evaluate, save ------------------------------------------------------------------

STAGES = {"shared encoder": True, "separate autoencoders": False}  # training stage -> shared encoder


@dataclass
class SwapRun:
    config: SwapConfig
    model: TwoDecoderAE  # shared encoder
    baseline: TwoDecoderAE  # two separate autoencoders
    results: dict


def train_swap(config: SwapConfig | None = None, progress=None) -> SwapRun:
    """Train the shared-encoder model and the separate-AE baseline on the same images, then evaluate.
    progress (a Progress, or a bare progress(stage, done, total)) hears after each validation pass; cancelling it
    stops the run."""
    config, progress = config or SwapConfig(), as_progress(progress)
    x_train, x_val = training_pairs(config)
    trained, seconds = {}, {}
    for stage, shared in STAGES.items():
        torch.manual_seed(config.train.seed)
        model = TwoDecoderAE(config, shared=shared)
        result = fit(model, x_train, x_val, config.train, [progress.fit_callback(stage)])
        progress.check()
        trained[shared], seconds[stage] = model, result.seconds
    results = evaluate_swap(trained[True], trained[False], config)
    results["train_seconds"] = seconds
    return SwapRun(config, trained[True], trained[False], results)


def evaluate_swap(model: TwoDecoderAE, baseline: TwoDecoderAE, config: SwapConfig) -> dict:
    """Pose errors on held-out A images: each swap against the ideal B render; and the floor for the
    target: those ideal B images through the shared encoder and B's decoder, against themselves (what the
    model's B decoder achieves when its input already is the answer)."""
    x_a, ideal_b = held_out_set(config)
    rows = {
        "swap (shared encoder)": pose_errors(model.swap(x_a), ideal_b),
        "baseline (separate AEs)": pose_errors(baseline.swap(x_a), ideal_b),
        FLOOR: pose_errors(model.reconstruct(ideal_b, 1), ideal_b),
    }
    return {"rows": rows, "n_test": len(x_a), "shape_a": config.shape_a, "shape_b": config.shape_b,
            "reference": f"swaps vs {config.shape_b} rendered with the input's factors; the floor: those ideal "
                         f"{config.shape_b} images reconstructed (shared encoder, {config.shape_b}'s decoder) "
                         "vs themselves"}


def default_swap_dir(config: SwapConfig | None = None, root: str | Path | None = None) -> Path:
    return Path(root or checkpoint_root()) / "sprites" / "experiments" / (config or SwapConfig()).name


def save_swap(run: SwapRun, out_dir: str | Path | None = None) -> Path:
    """The run folder: model.safetensors (shared encoder), baseline.safetensors, config.json, results.json."""
    return save_run(out_dir or default_swap_dir(run.config), "swap", run.config, run.results,
                    weights={WEIGHTS: run.model, BASELINE_WEIGHTS: run.baseline},
                    meta={"dataset": "sprites"})


def load_swap(ckpt_dir: str | Path | None = None) -> SwapRun:
    stored = load_run(ckpt_dir or default_swap_dir(), "swap", "decoder-swap model")
    try:
        config = SwapConfig.from_dict(stored.config)
        model, baseline = TwoDecoderAE(config, shared=True), TwoDecoderAE(config, shared=False)
        model.load_state_dict(stored.weights(WEIGHTS))
        baseline.load_state_dict(stored.weights(BASELINE_WEIGHTS))
    except Exception as exc:  # safetensors raises its own error type on a damaged file
        raise corrupt(stored.folder, "decoder-swap checkpoint", exc) from None
    return SwapRun(config, model.eval(), baseline.eval(), stored.results)


def swap_grid(run: SwapRun, x_a: torch.Tensor, ideal_b: torch.Tensor) -> dict[str, torch.Tensor]:
    """Rows of the page's grid, each (n, 1, H, W)."""
    a, b = run.config.shape_a, run.config.shape_b
    return {
        f"A ({a})": x_a,
        f"A through {b}'s decoder (shared encoder)": run.model.swap(x_a),
        "baseline: separate AEs": run.baseline.swap(x_a),
        f"ideal: {b} with A's factors": ideal_b,
        f"ideal {b} reconstructed (shared encoder, {b}'s decoder): the floor": run.model.reconstruct(ideal_b, 1),
    }


def swap_table(results: dict) -> pd.DataFrame:
    """The pose errors as a table: one row per method, one column per measure (angle_n: the sprites whose
    target orientation is measurable and whose output draws something, on which angle_deg is averaged)."""
    columns = ["position_px", "scale_px", "scale_corr", "angle_deg", "angle_n", "pixel_sse"]
    return pd.DataFrame(results["rows"]).T[columns].astype(float)


def swap_report(run: SwapRun) -> str:
    return swap_table(run.results).to_string()


register(Experiment(
    "swap", "Decoder swap", ":material/swap_horiz:", "decoder_swap", order=30,
    help="decoder swap on sprites: one shared encoder, a decoder per shape", config=SwapConfig,
    run=train_swap, save=save_swap, report=swap_report, train_flags=("epochs", "lr", "seed"),
    flag_help={"shape_a": "the input shape", "shape_b": "the target shape (its orientation measured from its moments)",
               "dim": "shared code size", "size": "image side", "n_train": "images per domain",
               "n_test": "held-out A images"},
    default_dir=lambda config, root: default_swap_dir(config, root), shipped="sprites/experiments/swap"))
