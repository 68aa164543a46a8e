"""Disentangling with DC-IGN (Kulkarni et al. 2015), against a plain VAE and a beta-VAE.

DC-IGN is a VAE trained on batches in which only ONE generative factor varies (sprites make that
easy: we render them). Each factor owns some code units. In a batch where factor f varies, the units
of every other factor are clamped: in the forward pass the decoder sees their batch mean (the same
value for every image, since those factors are the same for every image), and in the backward pass
their gradient is replaced by their deviation from that mean, which pulls them together: the units
of a factor learn to be invariant to the other factors. `ClampToMean` is that custom autograd
Function; it equals (and a test checks) decoding with the detached batch mean plus an explicit
penalty weight / 2 * mean_i ||z_i - mean||^2 on the clamped units. After training a DC-IGN is a
plain VAE (clamping is a training device only), so it is saved and loaded as one.

One recipe trains all three (train_model): explorer.train.fit with the same step budget, learning rate,
AdamW, cosine schedule and averaged (EMA) weights, on the same images; DC-IGN takes one whole one-factor
batch per step (fit hands it the batch's row, so it knows the varying factor), the VAEs the same number of
images per step, shuffled. Each keeps the best of fit's validation passes on freshly sampled sprites that
are neither training nor evaluation sprites, scored by its own VAE objective (recon + beta * KL, no clamp;
beta 1 for DC-IGN and the VAE): the objective each model is, after training.

The score is the mutual information gap (MIG, Chen et al. 2018): discretise each code unit, compute
the mutual information of every (factor, unit) pair with sklearn, divide by the factor's entropy,
and average over factors the gap between the best and the second-best unit. 1 means every factor
is captured by exactly one unit; 0 means none is, or it is smeared over several.
Evaluation sprites are distinct combinations with canonical rotations (a square's recorded modulo 90
degrees, an ellipse's modulo 180: what the image shows), none of them a training sprite.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import mutual_info_score
from torch import nn

from explorer.checkpoints import checkpoint_root
from explorer.datasets.sprites import FACTOR_NAMES, FACTOR_VALUES, distinct_factors, render
from explorer.errors import ExplorerError
from explorer.evaluate import decode_all, encode_all
from explorer.experiments.base import (
    Experiment,
    ExperimentConfig,
    Progress,
    as_progress,
    check_train,
    corrupt,
    load_run,
    register,
    save_run,
)
from explorer.models import ModelConfig, build_model
from explorer.models.likelihood import bernoulli_nll
from explorer.models.vae import VAE, gaussian_kl
from explorer.train import TrainConfig, fit

DISENTANGLE_MODELS = ("dc-ign", "vae", "beta-vae")  # the three models compared, one run folder each


@dataclass
class DisentangleConfig(ExperimentConfig):
    factor_units: dict[str, int] = field(default_factory=lambda: {"shape": 2, "scale": 1, "rotation": 2, "x": 1,
                                                                  "y": 1})
    channels: tuple[int, ...] = (16, 32, 64)
    size: int = 32
    n_batches: int = 300  # one-factor batches rendered once; the VAEs train on the same images
    # batch_size: images per one-factor batch (DC-IGN takes one batch per step, the VAEs as many shuffled images);
    # epochs: passes over the n_batches batches
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=20, batch_size=32, lr=1e-3, device="cpu"))
    clamp_weight: float = 5.0  # strength of the pull of clamped units towards their batch mean
    beta: float = 4.0  # the beta-VAE's KL weight (the plain VAE and DC-IGN use 1)
    n_eval: int = 3000  # freshly sampled sprites for MIG and the heat map
    n_val: int = 500  # freshly sampled sprites for model selection, neither training nor evaluation ones
    bins: int = 20  # histogram bins per code unit for MIG

    def __post_init__(self):
        self.channels = tuple(self.channels)
        unknown = set(self.factor_units) - set(FACTOR_NAMES)
        if unknown or any(n < 1 for n in self.factor_units.values()):
            raise ExplorerError(f"factor_units must map factors from {FACTOR_NAMES} to positive unit counts")
        if self.train.steps is not None or self.train.epochs is None:
            raise ExplorerError("the disentanglement budget is epochs over the one-factor batches, not steps")
        sizes = (self.n_batches, self.train.batch_size - 1, self.n_eval, self.n_val, self.bins - 1)
        if min(sizes) < 1:
            raise ExplorerError("n_batches, n_eval, n_val must be positive, batch_size and bins at least 2")
        check_train(self.train)

    @property
    def dim(self) -> int:
        return sum(self.factor_units.values())


def unit_layout(factor_units: dict[str, int]) -> dict[str, list[int]]:
    """Consecutive code units per factor: {"shape": [0, 1], "scale": [2], ...}."""
    out, start = {}, 0
    for name, n in factor_units.items():
        out[name], start = list(range(start, start + n)), start + n
    return out


def unit_names(factor_units: dict[str, int]) -> list[str]:
    """A label per code unit, e.g. ["shape 1", "shape 2", "scale", ...]."""
    return [name if n == 1 else f"{name} {i + 1}" for name, n in factor_units.items() for i in range(n)]


# ----- the DC-IGN clamp -------------------------------------------------------------------------

class ClampToMean(torch.autograd.Function):
    """Forward: units where free is False become their batch mean. Backward: free units get the
    incoming gradient; clamped units get weight * (z - mean) / B instead (pulls them to the mean)."""

    @staticmethod
    def forward(ctx, z, free, weight):  # z (B, d), free (d,) bool
        mean = z.mean(0, keepdim=True)  # (1, d)
        ctx.save_for_backward(z - mean, free)
        ctx.weight = weight
        return torch.where(free, z, mean.expand_as(z))

    @staticmethod
    def backward(ctx, grad):
        deviation, free = ctx.saved_tensors
        return torch.where(free, grad, ctx.weight * deviation / len(deviation)), None, None


def clamp_penalty(z: torch.Tensor, free: torch.Tensor, weight: float) -> torch.Tensor:
    """The explicit penalty whose gradient ClampToMean applies: weight / 2 * mean_i ||z_i - mean||^2 on clamped
    units."""
    deviation = (z - z.mean(0, keepdim=True).detach()) * (~free)
    return 0.5 * weight * deviation.pow(2).sum(1).mean()


def free_mask(layout: dict[str, list[int]], varying: str, dim: int) -> torch.Tensor:
    mask = torch.zeros(dim, dtype=torch.bool)
    mask[layout[varying]] = True
    return mask


def dcign_loss(model: VAE, x: torch.Tensor, free: torch.Tensor, weight: float) -> dict[str, torch.Tensor]:
    """VAE loss on a one-factor batch with the clamp between encoder and decoder."""
    mu, logvar = model.posterior(x)
    z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()  # (B, d)
    recon = bernoulli_nll(model.decoder(ClampToMean.apply(z, free, weight)), x)
    kl = gaussian_kl(mu, logvar).mean()
    with torch.no_grad():
        invariance = clamp_penalty(z, free, weight)  # reported only: its gradient comes from the clamp
    return {"loss": recon + model.config.beta * kl, "recon": recon, "kl": kl, "clamp_penalty": invariance}


# ----- data --------------------------------------------------------------------------------------

def one_factor_factors(n_batches: int, batch_size: int, seed: int = 0, factors: list[str] | None = None
                       ) -> tuple[list[str], dict[str, np.ndarray]]:
    """The varying factor per batch (batch i varies factors[i % len(factors)]) and the factor values
    (n_batches, B): the varying one drawn per image, all others once per batch."""
    factors = factors or FACTOR_NAMES
    rng = np.random.default_rng(seed)
    varying = [factors[i % len(factors)] for i in range(n_batches)]
    values = {}
    for name, grid in FACTOR_VALUES.items():
        base = grid[rng.integers(0, len(grid), n_batches)][:, None].repeat(batch_size, 1)  # fixed per batch
        free = grid[rng.integers(0, len(grid), (n_batches, batch_size))]  # varies within a batch
        values[name] = np.where(np.array(varying)[:, None] == name, free, base).astype(np.float32)
    return varying, values


def one_factor_batches(n_batches: int, batch_size: int, size: int = 32, seed: int = 0,
                       factors: list[str] | None = None) -> tuple[torch.Tensor, list[str], dict[str, np.ndarray]]:
    """Images (n_batches, B, 1, H, W) in which batch i varies only factors[i % len(factors)]; all other
    factors are drawn once per batch. Also the varying factor per batch and the factor values (n_batches, B)."""
    varying, values = one_factor_factors(n_batches, batch_size, seed, factors)
    flat = {k: v.reshape(-1) for k, v in values.items()}
    images = torch.from_numpy(render(flat, size)).view(n_batches, batch_size, 1, size, size)
    return images, varying, values


def _training_factors(config: DisentangleConfig) -> dict[str, np.ndarray]:
    """Every training sprite's factors, flat: what evaluation and validation sprites must not be."""
    values = one_factor_factors(config.n_batches, config.train.batch_size, config.train.seed)[1]
    return {k: v.reshape(-1) for k, v in values.items()}


def _eval_factors(config: DisentangleConfig) -> dict[str, np.ndarray]:
    return distinct_factors(config.n_eval, config.train.seed + 1000, _training_factors(config))


def eval_set(config: DisentangleConfig) -> tuple[torch.Tensor, dict[str, np.ndarray]]:
    """Freshly sampled sprites (distinct combinations, every factor random, none a training sprite) with their
    factors, for MIG and traversals."""
    factors = _eval_factors(config)
    return torch.from_numpy(render(factors, config.size)), factors


def validation_set(config: DisentangleConfig) -> torch.Tensor:
    """n_val freshly sampled sprites for model selection: neither training nor evaluation sprites."""
    seen = [_training_factors(config), _eval_factors(config)]
    factors = distinct_factors(config.n_val, config.train.seed + 2000, seen)
    return torch.from_numpy(render(factors, config.size))


# ----- training ----------------------------------------------------------------------------------

def _vae(config: DisentangleConfig, beta: float) -> VAE:
    mc = ModelConfig.create("vae", (1, config.size, config.size), config.dim, channels=config.channels, backbone="conv",
                            beta=beta)
    return build_model(mc)


class DCIGN(nn.Module):
    """DC-IGN in the form explorer.train.fit trains: each training sample is one whole one-factor batch
    (B, 1, H, W), and fit passes the samples' rows (takes_rows) so the loss knows which factor each batch
    varies and clamps the other factors' units (dcign_loss). loss(x) without rows, fit's validation, is the
    plain VAE objective: after training DC-IGN is its VAE."""

    is_trainable, takes_rows, decays = True, True, VAE.decays

    def __init__(self, vae: VAE, varying: list[str], layout: dict[str, list[int]], weight: float):
        super().__init__()
        self.vae, self.weight = vae, weight
        free = torch.stack([free_mask(layout, f, vae.dim) for f in varying])  # (n_batches, d)
        self.register_buffer("free", free, persistent=False)  # moves with the model, not saved

    def loss(self, x: torch.Tensor, rows: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if rows is None:
            return self.vae.loss(x)
        terms = [dcign_loss(self.vae, xb, self.free[r], self.weight) for xb, r in zip(x, rows.tolist())]
        return {k: torch.stack([t[k] for t in terms]).mean() for k in terms[0]}


def train_model(config: DisentangleConfig, method: str, images: torch.Tensor, varying: list[str],
                x_val: torch.Tensor, progress: Progress | None = None) -> tuple[VAE, dict]:
    """One recipe for all three methods: fit with the same steps (epochs x n_batches), learning rate,
    schedule and validation passes over the same images, keeping the best validation pass on x_val (each
    model's own VAE objective). DC-IGN takes one one-factor batch per step, a VAE batch_size shuffled
    images. Returns the model and the recipe as run (for the results, the page and the README)."""
    progress = as_progress(progress)
    torch.manual_seed(config.train.seed)
    vae = _vae(config, config.beta if method == "beta-vae" else 1.0)
    if method == "dc-ign":
        layout = unit_layout(config.factor_units)
        usable = [i for i, f in enumerate(varying) if f in layout]  # a batch varying a factor without units: skip
        model, x_train, batch = DCIGN(vae, [varying[i] for i in usable], layout, config.clamp_weight), images[usable], 1
    else:
        model, x_train, batch = vae, images.flatten(0, 1), config.train.batch_size  # (n_batches * B, 1, H, W)
    train = replace(config.train, steps=config.train.epochs * config.n_batches, epochs=None, batch_size=batch)
    result = fit(model, x_train, x_val, train, [progress.fit_callback(method)])
    progress.check()
    losses = [log.val_loss for log in result.history]
    recipe = {
        "optimizer": "AdamW", "weight_decay": train.weight_decay if model.decays else 0.0,
        "schedule": "cosine", "lr": train.lr, "steps": result.steps, "ema": train.ema,
        "images_per_step": config.train.batch_size,
        "step_sample": "one one-factor batch" if method == "dc-ign" else "shuffled images",
        "validation_images": len(x_val), "validation_passes": len(losses),
        "selected_on": f"own VAE objective on the validation sprites (recon + {vae.config.beta:g} * KL, no clamp)",
        "best_step": result.best_step, "best_validation_loss": min(losses), "validation_losses": losses,
    }
    return vae.eval(), recipe


# ----- measuring --------------------------------------------------------------------------------

def discretise(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Each column of codes (N, d) into `bins` equal-width bins over its own range: (N, d) ints."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, j], bins)
        out[:, j] = np.digitize(codes[:, j], edges[1:-1])
    return out


def mutual_information(codes: np.ndarray, factors: dict[str, np.ndarray], bins: int = 20) -> np.ndarray:
    """(K factors, d units): I(factor; discretised unit) / H(factor), each in [0, 1]."""
    binned = discretise(np.asarray(codes), bins)
    out = np.zeros((len(factors), binned.shape[1]))
    for k, values in enumerate(factors.values()):
        labels = np.unique(np.asarray(values), return_inverse=True)[1]
        entropy = mutual_info_score(labels, labels)  # H(f) in nats
        for j in range(binned.shape[1]):
            out[k, j] = mutual_info_score(labels, binned[:, j]) / entropy if entropy > 0 else 0.0
    return out


def mig(codes: np.ndarray, factors: dict[str, np.ndarray], bins: int = 20
        ) -> tuple[float, dict[str, float], np.ndarray]:
    """Mutual information gap: mean over factors of (best unit - second-best unit) normalised MI.
    Returns (score, gap per factor, the normalised MI matrix)."""
    mi = mutual_information(codes, factors, bins)
    top = np.sort(mi, axis=1)[:, ::-1]
    second = top[:, 1] if mi.shape[1] > 1 else np.zeros(len(mi))
    gaps = top[:, 0] - second
    return float(gaps.mean()), dict(zip(factors, gaps.tolist())), mi


def group_mutual_information(codes: np.ndarray, values: np.ndarray, units: list[int], bins: int = 20) -> float:
    """I(factor; the units jointly) / H(factor). The group's cells number about `bins`, as one unit's do
    (bins ** (1 / g) bins per unit), so a group is not favoured by the plug-in estimator's upward bias."""
    per_unit = max(2, round(bins ** (1 / len(units))))
    binned = discretise(np.asarray(codes)[:, units], per_unit)
    cells = np.ravel_multi_index(binned.T, (per_unit,) * len(units))
    labels = np.unique(np.asarray(values), return_inverse=True)[1]
    entropy = mutual_info_score(labels, labels)
    return mutual_info_score(labels, cells) / entropy if entropy > 0 else 0.0


def group_mig(codes: np.ndarray, factors: dict[str, np.ndarray], layout: dict[str, list[int]], fixed: bool = True,
              bins: int = 20) -> tuple[float, dict[str, float]]:
    """The mutual information gap with groups of units: for each factor, I(factor; its group) minus the
    best single unit outside the group, averaged over factors. A factor's group is the g units the
    layout gives it (fixed: a model built to the layout, DC-IGN), else the g units most informative about it, so
    every model is scored on groups of the same sizes. With one unit per factor and no fixed layout it is the MIG; a
    perfectly disentangled code in any layout scores 1, where the MIG gives a factor that owns two
    units about 0 (its best unit minus its other unit)."""
    mi = mutual_information(codes, factors, bins)
    gaps = {}
    for k, (name, values) in enumerate(factors.items()):
        size = len(layout[name])
        group = layout[name] if fixed else np.argsort(mi[k])[::-1][:size].tolist()
        outside = [j for j in range(mi.shape[1]) if j not in group]
        best_outside = mi[k, outside].max() if outside else 0.0
        gaps[name] = float(group_mutual_information(codes, values, group, bins) - best_outside)
    return float(np.mean(list(gaps.values()))), gaps


def measure(model: VAE, x: torch.Tensor, factors: dict[str, np.ndarray], bins: int = 20,
            layout: dict[str, list[int]] | None = None, fixed: bool = False) -> dict:
    """MIG, gap per factor, the MI heat map and the held-out reconstruction error of one model; with a
    layout (factor -> its units; fixed when the model was built to it), the group MIG too."""
    codes = encode_all(model, x).numpy()  # posterior means (N, d)
    score, gaps, mi = mig(codes, factors, bins)
    sse = float((decode_all(model, torch.from_numpy(codes)) - x).pow(2).flatten(1).sum(1).mean())
    out = {"mig": score, "gaps": gaps, "mi": mi.tolist(), "factors": list(factors), "recon_sse": sse}
    if layout is not None:
        out["group_mig"], out["group_gaps"] = group_mig(codes, factors, layout, fixed, bins)
    return out


@torch.no_grad()
def traversal(model: VAE, x0: torch.Tensor, codes: np.ndarray, steps: int = 9, quantile: float = 0.02) -> torch.Tensor:
    """Images (d, steps, 1, H, W): x0's code with unit j swept from its `quantile` to its 1 - `quantile`
    value over `codes` (N, d), the other units kept."""
    z0 = encode_all(model, x0[None])[0]  # (d,)
    lo, hi = np.quantile(codes, [quantile, 1 - quantile], axis=0)  # (d,) each
    rows = []
    for j in range(len(z0)):
        z = z0.repeat(steps, 1)  # (steps, d)
        z[:, j] = torch.linspace(float(lo[j]), float(hi[j]), steps)
        rows.append(decode_all(model, z))
    return torch.stack(rows)


# ----- the whole experiment, saved -------------------------------------------------------------

@dataclass
class DisentangleRun:
    config: DisentangleConfig
    models: dict[str, VAE]  # keyed by DISENTANGLE_MODELS
    results: dict


def train_disentangle(config: DisentangleConfig | None = None, progress=None) -> DisentangleRun:
    """Train DC-IGN, a VAE and a beta-VAE with one recipe on the same one-factor-batch images, then measure each.
    progress (a Progress, or a bare progress(stage, step, steps)) hears after every validation pass; cancelling it
    stops the run."""
    config, progress = config or DisentangleConfig(), as_progress(progress)
    images, varying, _ = one_factor_batches(config.n_batches, config.train.batch_size, config.size, config.train.seed)
    x_val = validation_set(config)
    seconds, models, recipes = {}, {}, {}
    for name in DISENTANGLE_MODELS:
        start = time.perf_counter()
        models[name], recipes[name] = train_model(config, name, images, varying, x_val, progress)
        seconds[name] = time.perf_counter() - start
    x, factors = eval_set(config)
    layout = unit_layout(config.factor_units)
    results = {name: {**measure(m, x, factors, config.bins, layout, fixed=name == "dc-ign"), "seconds": seconds[name],
                      "recipe": recipes[name]} for name, m in models.items()}
    return DisentangleRun(config, models, {"methods": results, "n_eval": len(x),
                                           "units": unit_names(config.factor_units), "dim": config.dim})


def default_disentangle_dir(root: str | Path | None = None) -> Path:
    return Path(root or checkpoint_root()) / "sprites" / "experiments" / "disentangle"


def save_disentangle(run: DisentangleRun, out_dir: str | Path | None = None) -> Path:
    """The run folder: {dc-ign,vae,beta-vae}/ as ordinary VAE checkpoints, config.json and results.json."""
    meta = {"dataset": "sprites", "dataset_options": {"image_size": run.config.size}}
    return save_run(out_dir or default_disentangle_dir(), "disentangle", run.config, run.results, models=run.models,
                    meta=meta)


def load_disentangle(ckpt_dir: str | Path | None = None) -> DisentangleRun:
    stored = load_run(ckpt_dir or default_disentangle_dir(), "disentangle", "disentanglement results")
    try:
        config = DisentangleConfig.from_dict(stored.config)
    except (ValueError, KeyError, TypeError) as exc:
        raise corrupt(stored.folder, "disentanglement results", exc) from None
    models = {name: stored.model(name, (1, config.size, config.size)) for name in DISENTANGLE_MODELS}
    return DisentangleRun(config, models, stored.results)


def mig_table(results: dict) -> pd.DataFrame:
    """MIG and the gap per factor (rows) for each method (columns), the group MIG and its gaps when
    measured, plus each method's held-out error."""
    def column(r: dict) -> dict:
        col = {"MIG": r["mig"], **{f"gap {f}": g for f, g in r["gaps"].items()}}
        if "group_mig" in r:  # runs saved before the group MIG existed have none
            col["group MIG"] = r["group_mig"]
            col.update({f"group gap {f}": g for f, g in r["group_gaps"].items()})
        return col

    methods = results["methods"]
    table = pd.DataFrame({m: column(r) for m, r in methods.items()})
    table.loc["held-out error (SSE)"] = [r["recon_sse"] for r in methods.values()]
    return table


def reference_codes(run: DisentangleRun, method: str, n: int = 500) -> tuple[torch.Tensor, np.ndarray]:
    """The first n evaluation sprites of the run's config and one model's codes of them (n, d): the sprites a
    traversal starts from and the codes that set each unit's range."""
    x, _ = eval_set(replace(run.config, n_eval=n))
    return x, encode_all(run.models[method], x).numpy()


register(Experiment(
    "disentangle", "Disentangle", ":material/tune:", "disentangle", order=40,
    help="DC-IGN against a VAE and a beta-VAE on sprites, scored by MIG", config=DisentangleConfig,
    flag_help={"n_batches": "one-factor batches of training data", "beta": "the beta-VAE's beta",
               "clamp_weight": "pull of the clamped units towards their batch mean", "n_eval": "sprites scored",
               "n_val": "sprites for model selection", "bins": "histogram bins per unit for MIG", "size": "image side"},
    run=train_disentangle, save=save_disentangle, report=lambda run: mig_table(run.results).to_string(),
    default_dir=lambda config, root: default_disentangle_dir(root), shipped="sprites/experiments/disentangle"))
