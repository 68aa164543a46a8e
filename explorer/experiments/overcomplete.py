"""Over-complete codes: a code wider than the image could simply copy it, unless a regulariser stops that.

Four autoencoders on mnist5k with a code WIDER than the 784 pixels, one hidden layer each side: encoder
784 -> width (the code), decoder width -> 784 (sigmoid). A deeper, bottlenecked network could not copy, so
the code is the only hidden layer. Every code is a ReLU code, so their active fractions compare (a plain
mlp-ae's code is linear and never exactly 0):
  plain      the sparse family with L1 weight 0 (and top_k 0): a ReLU code and no regulariser at all;
  sparse     the same with an L1 penalty on the code (the lecture's sparse AE);
  top-k      the same with no penalty but a top-k code (the app's sparse AE): each image keeps a quarter of
             the units, so the code can never be a dense copy;
  denoising  Gaussian noise on the input, loss against the clean image (denoising-ae with its relu_code option).
All four train the same way: explorer.train.fit with the same steps, batch, lr, seed, AdamW with no weight
decay, weight averaging and selection on the same validation split; only the regulariser differs.

A model that learned the identity reconstructs any input; one that learned digits reconstructs digits. So each
is scored (mean per-image SSE, as everywhere in the app) on held-out digits and on four kinds of input that
are not digits: uniform noise; held-out digits with their pixels shuffled (one fixed permutation, the same
for every image, so each image keeps its ink but loses its strokes); 28 x 28 crops of the photographs bundled
with scikit-image; and sprites drawn at 28 x 28. Two references put the errors on a scale: an all-black output,
and a flat image at the input's own mean brightness; a model that beats the flat image reproduces some of
the input's pattern, and a copy scores 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from explorer.checkpoints import checkpoint_root
from explorer.datasets import Dataset, load_dataset
from explorer.datasets.sprites import render, sample_factors
from explorer.errors import ExplorerError
from explorer.evaluate import encode_all, evenly_spaced, reconstruct, reconstruction_errors
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
from explorer.metrics import active_fraction, dead_units
from explorer.models import ModelConfig, build_model
from explorer.models.base import Autoencoder
from explorer.noise import NOISE_KINDS
from explorer.train import TrainConfig, fit

SHAPE = (1, 28, 28)
PIXELS = 28 * 28
OVERCOMPLETE_MODELS = ("plain", "sparse", "top-k", "denoising")  # the four models compared, one folder each
LABELS = {"plain": "plain", "sparse": "sparse (L1)", "top-k": "sparse (top-k, a quarter)", "denoising": "denoising"}
KINDS = ("digits", "noise", "shuffled", "photos", "sprites")
KIND_LABELS = {"digits": "held-out digits", "noise": "uniform noise", "shuffled": "shuffled-pixel digits",
               "photos": "photo crops", "sprites": "sprites"}
REFERENCES = ("flat", "black")
REFERENCE_LABELS = {"flat": "flat image at the input's mean", "black": "all-black image"}
# Bundled with scikit-image (no download); grayscale crops of these stand in for "another dataset".
PHOTOS = ("astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel", "moon", "rocket")


@dataclass
class OvercompleteConfig(ExperimentConfig):
    width: int = 1024  # code units; more than the 784 pixels
    # the same steps, batch, lr and seed for each model, and no weight decay
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=3000, batch_size=64, lr=2e-3, weight_decay=0.0,
                                                                   device="cpu"))
    # The regularisers' strengths were chosen on the validation split (never on held-out digits or non-digit
    # inputs), with the other defaults, from L1 0.02 / 0.05 / 0.1 / 0.2 (validation SSE 2.77 / 3.43 / 4.09 / 5.07;
    # dead units on validation 149 / 255 / 487 / 624 of 1024) and noise std 0.1 / 0.2 / 0.3 (SSE 4.45 / 7.68 /
    # 11.69; dead 276 / 360 / 402); plain: 1.77, 137 dead. Chosen: the pair whose digit errors match (4.09, 4.45),
    # so the two pay about the same on digits and differ in kind, not strength; both then keep fewer live units
    # than the 784 pixels, the plain code more. Stronger noise costs digits far more; stronger L1 kills most units.
    l1_weight: float = 0.1
    noise: str = "gaussian"  # the denoising model's corruption (explorer.noise)
    noise_level: float = 0.1
    n_probe: int = 500  # images of each non-digit kind

    def __post_init__(self):
        if self.width <= PIXELS:
            raise ExplorerError(f"width must exceed the {PIXELS} pixels for an over-complete code, got {self.width}")
        if self.n_probe < 1:
            raise ExplorerError("n_probe must be a positive integer")
        check_train(self.train)
        if self.l1_weight <= 0:
            raise ExplorerError(f"l1_weight must be positive (0 would make the sparse model the plain one), "
                                f"got {self.l1_weight}")
        if self.noise not in NOISE_KINDS:
            raise ExplorerError(f"unknown noise {self.noise!r}; choose one of {', '.join(NOISE_KINDS)}")
        if not 0 < self.noise_level <= (5 if self.noise == "gaussian" else 1):
            raise ExplorerError(f"noise_level {self.noise_level} out of range: a fraction in (0, 1] "
                                f"(gaussian: a std in (0, 5])")


@dataclass
class OvercompleteRun:
    config: OvercompleteConfig
    models: dict[str, Autoencoder]  # method -> model, in OVERCOMPLETE_MODELS order
    results: dict


def model_config(method: str, config: OvercompleteConfig) -> ModelConfig:
    """The four share one architecture (hidden=(): the code is the only hidden layer) and a ReLU code."""
    common = dict(image_shape=SHAPE, dim=config.width, hidden=(), backbone="mlp")
    if method == "plain":
        return ModelConfig.create("sparse-ae", **common, l1_weight=0.0, top_k=0)
    if method == "sparse":
        return ModelConfig.create("sparse-ae", **common, l1_weight=config.l1_weight, top_k=0)
    if method == "top-k":
        return ModelConfig.create("sparse-ae", **common, l1_weight=0.0, top_k=config.width // 4)
    if method == "denoising":
        return ModelConfig.create("denoising-ae", **common, noise=config.noise, noise_level=config.noise_level,
                                  relu_code=True)
    raise ExplorerError(f"unknown method {method!r}; choose one of {', '.join(OVERCOMPLETE_MODELS)}")


# ----- inputs ---------------------------------------------------------------------------------------------

def photo_crops(n: int, seed: int = 0) -> torch.Tensor:
    """n grayscale 28 x 28 crops of scikit-image's bundled photographs, each photo scaled so that its shorter
    side is 84 pixels (a crop shows a ninth of that side), crops spread evenly over the photos."""
    from skimage import color, data, transform

    rng = np.random.default_rng(seed)
    crops = []
    for i, name in enumerate(PHOTOS):
        image = getattr(data, name)()
        if image.ndim == 3:
            image = color.rgb2gray(image[..., :3])
        image = image.astype(np.float32) / (255.0 if image.max() > 1.5 else 1.0)
        image = transform.rescale(image, 84 / min(image.shape), anti_aliasing=True)
        for _ in range(n // len(PHOTOS) + (i < n % len(PHOTOS))):
            r, c = rng.integers(0, image.shape[0] - 27), rng.integers(0, image.shape[1] - 27)
            crops.append(image[r : r + 28, c : c + 28])
    return torch.from_numpy(np.clip(np.stack(crops), 0, 1)[:, None].astype(np.float32))


def probe_sets(config: OvercompleteConfig, dataset: Dataset | None = None) -> dict[str, torch.Tensor]:
    """The inputs every model is scored on, kind -> (N, 1, 28, 28) in [0, 1]; fixed by config.train.seed."""
    dataset = dataset or load_dataset("mnist5k")
    x_test = dataset.x_test
    seed = config.train.seed
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(PIXELS, generator=gen)  # one permutation for every image
    some = torch.from_numpy(evenly_spaced(len(x_test), config.n_probe))
    return {
        "digits": x_test,
        "noise": torch.rand((config.n_probe, *SHAPE), generator=gen),
        "shuffled": x_test[some].flatten(1)[:, perm].view(-1, *SHAPE),
        "photos": photo_crops(config.n_probe, seed),
        "sprites": torch.from_numpy(render(sample_factors(config.n_probe, seed + 1), 28)),
    }


# ----- train and measure ----------------------------------------------------------------------------------

def _as_stored(model: Autoencoder) -> Autoencoder:
    """Round the weights to float16, the precision they are stored in, so the results describe the stored model."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model


def train_overcomplete(config: OvercompleteConfig | None = None, progress=None,
                       dataset: Dataset | None = None) -> OvercompleteRun:
    """Train the plain, sparse and denoising models the same way, then measure them.
    progress (a Progress, or a bare progress(stage, done, total)) hears after each validation pass; cancelling it
    stops the run."""
    config, progress = config or OvercompleteConfig(), as_progress(progress)
    dataset = dataset or load_dataset("mnist5k")
    if tuple(dataset.image_shape) != SHAPE:
        raise ExplorerError(f"the over-complete experiment needs 28 x 28 gray images, got {tuple(dataset.image_shape)}")
    fit_idx, val_idx = dataset.validation_split()
    x_fit, x_val = dataset.images[fit_idx], dataset.images[val_idx]
    models, training = {}, {}
    for method in OVERCOMPLETE_MODELS:
        torch.manual_seed(config.train.seed)  # the same initial weights for all four
        model = build_model(model_config(method, config))
        result = fit(model, x_fit, x_val, config.train, [progress.fit_callback(method)])
        progress.check()
        models[method] = _as_stored(model).eval()
        training[method] = {"seconds": result.seconds, "best_step": result.best_step}
    results = evaluate_overcomplete(models, probe_sets(config, dataset))
    for method in OVERCOMPLETE_MODELS:
        results["methods"][method].update(training[method])
    return OvercompleteRun(config, models, results)


def reference_errors(x: torch.Tensor) -> dict[str, float]:
    """Mean per-image SSE of the two reference outputs: a flat image at the input's own mean, and black."""
    flat = x.flatten(1)
    return {"flat": float((flat - flat.mean(1, keepdim=True)).pow(2).sum(1).mean()),
            "black": float(flat.pow(2).sum(1).mean())}


def evaluate_overcomplete(models: dict[str, Autoencoder], probes: dict[str, torch.Tensor]) -> dict:
    """Per model: the SSE on every kind of input, and on held-out digits its code's active fraction, dead
    units and live units (width minus dead). Per reference output: the SSE on every kind."""
    methods = {}
    for method, model in models.items():
        z = encode_all(model, probes["digits"]).numpy()
        dead = dead_units(z)
        methods[method] = {"sse": {k: float(reconstruction_errors(model, x).mean()) for k, x in probes.items()},
                           "active_fraction": active_fraction(z), "dead_units": dead, "live_units": z.shape[1] - dead}
    refs = {k: reference_errors(x) for k, x in probes.items()}
    return {"methods": methods, "references": {r: {k: refs[k][r] for k in probes} for r in REFERENCES},
            "n": {k: len(x) for k, x in probes.items()}, "pixels": PIXELS}


def nondigit_ratio(sse: dict[str, float]) -> float:
    """Mean error on the non-digit kinds over the error on held-out digits: about 1 for a model that copies
    whatever it is given, large for one that reconstructs only digits."""
    return float(np.mean([sse[k] for k in KINDS if k != "digits"]) / max(sse["digits"], 1e-12))


def overcomplete_table(results: dict) -> pd.DataFrame:
    """One row per model, then the two reference outputs; columns: SSE per kind of input, the non-digit to
    digit error ratio, and the code's active fraction, dead units and live units on held-out digits."""
    rows = {}
    for method, r in results["methods"].items():
        rows[LABELS[method]] = {**{KIND_LABELS[k]: r["sse"][k] for k in KINDS},
                                "non-digit / digit error": nondigit_ratio(r["sse"]),
                                "active fraction": r["active_fraction"], "dead units": float(r["dead_units"]),
                                "live units": float(r["live_units"])}
    for ref, sse in results["references"].items():
        rows[f"reference: {REFERENCE_LABELS[ref]}"] = {KIND_LABELS[k]: sse[k] for k in KINDS}
    return pd.DataFrame(rows).T.astype(float)  # floats: a reference has no code, its cells are NaN


def copied_kinds(results: dict, method: str) -> list[str]:
    """The non-digit kinds a model reconstructs better than a flat image at the input's mean: the ones it
    reproduces some pattern of, rather than only its brightness or a digit."""
    sse, flat = results["methods"][method]["sse"], results["references"]["flat"]
    return [k for k in KINDS if k != "digits" and sse[k] < flat[k]]


def finding(results: dict) -> list[str]:
    """The result in sentences, every number from results: did the plain model learn the identity (does it
    reproduce what is not a digit), and what do the regularisers change."""
    m, refs = results["methods"], results["references"]
    names = lambda kinds: ", ".join(KIND_LABELS[k] for k in kinds) or "none of them"  # noqa: E731
    copied = copied_kinds(results, "plain")
    missed = [k for k in KINDS if k != "digits" and k not in copied]
    if not missed:
        verdict = ("The plain over-complete AE learned (close to) the identity: it reproduces every kind of "
                   "non-digit input.")
    elif "noise" in missed:
        verdict = ("The plain over-complete AE did not learn the identity: it reproduces digits, not arbitrary "
                   "images.")
    else:
        verdict = "The plain over-complete AE reproduces noise, but not every kind of non-digit input."

    def each(value) -> str:  # "plain 1.86, sparse (L1) 4.32, ...": one entry per model
        return ", ".join(f"{LABELS[k]} {value(k)}" for k in OVERCOMPLETE_MODELS)

    sse = lambda kind, fmt: each(lambda k: format(m[k]["sse"][kind], fmt))  # noqa: E731
    return [
        verdict,
        f"Held-out digits: {sse('digits', '.2f')} (SSE per image).",
        f"Uniform noise: {sse('noise', '.1f')}, against {refs['black']['noise']:.1f} for an all-black output and "
        f"{refs['flat']['noise']:.1f} for a flat image at the input's mean.",
        "Non-digit inputs reproduced better than by a flat image at their mean: "
        + "; ".join(f"{LABELS[k]}: {names(copied_kinds(results, k))}" for k in OVERCOMPLETE_MODELS)
        + f". Mean non-digit error over digit error: {each(lambda k: format(nondigit_ratio(m[k]['sse']), '.0f'))} "
        "(about 1 for a copy).",
        f"The codes, per held-out digit: active units {each(lambda k: format(m[k]['active_fraction'], '.0%'))}; "
        f"units ever active {each(lambda k: m[k]['live_units'])}, for {results['pixels']} pixels.",
    ]


# ----- store ---------------------------------------------------------------------------------------------

def default_overcomplete_dir(root: str | Path | None = None) -> Path:
    return Path(root or checkpoint_root()) / "mnist5k" / "experiments" / "overcomplete"


def save_overcomplete(run: OvercompleteRun, out_dir: str | Path | None = None) -> Path:
    """The run folder: {plain,sparse,top-k,denoising}/ as ordinary checkpoints (float16 weights: the results were
    measured on them), config.json and results.json."""
    try:
        return save_run(out_dir or default_overcomplete_dir(), "overcomplete", run.config, run.results,
                        models={method: model.half() for method, model in run.models.items()},
                        meta={"dataset": "mnist5k"})
    finally:
        for model in run.models.values():
            model.float()


def load_overcomplete(ckpt_dir: str | Path | None = None) -> OvercompleteRun:
    stored = load_run(ckpt_dir or default_overcomplete_dir(), "overcomplete", "over-complete results")
    try:
        config = OvercompleteConfig.from_dict(stored.config)
        stored.results["methods"][OVERCOMPLETE_MODELS[-1]]["sse"]["digits"]  # noqa: B018  (a truncated file fails here)
    except (ValueError, KeyError, TypeError) as exc:
        raise corrupt(stored.folder, "over-complete results", exc) from None
    models = {method: stored.model(method, SHAPE) for method in OVERCOMPLETE_MODELS}
    return OvercompleteRun(config, models, stored.results)


def reconstruction_rows(run: OvercompleteRun, probes: dict[str, torch.Tensor], n: int = 8) -> dict[str, dict]:
    """For the page: per kind, the first n inputs and each model's reconstruction of them, each (n, 1, 28, 28)."""
    rows = {}
    for kind, x in probes.items():
        shown = x[evenly_spaced(len(x), n)]
        rows[kind] = {"input": shown, **{method: reconstruct(model, shown) for method, model in run.models.items()}}
    return rows


register(Experiment(
    "overcomplete", "Over-complete", ":material/unfold_more:", "overcomplete", order=60,
    help="codes wider than the image on mnist5k: plain vs sparse (L1, top-k) vs denoising AE",
    flag_help={"width": "code units, more than the 784 pixels", "l1_weight": "the sparse model's L1 weight",
               "noise": "the denoising model's corruption", "noise_level": "the denoising model's noise level",
               "n_probe": "images of each non-digit kind"},
    config=OvercompleteConfig, run=train_overcomplete, save=save_overcomplete, train_flags=("steps", "lr", "seed"),
    report=lambda run: "\n".join([overcomplete_table(run.results).round(3).to_string(), *finding(run.results)]),
    default_dir=lambda config, root: default_overcomplete_dir(root), shipped="mnist5k/experiments/overcomplete"))
