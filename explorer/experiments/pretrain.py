"""Pre-training: does an encoder trained without labels make a better classifier from few labels?

A classifier is an encoder plus a linear head. The encoder is either the trained autoencoder's
(pre-trained) or the same network freshly initialised (random init). It is either kept fixed while
only the head learns (frozen: a linear probe) or trained together with the head (fine-tuned).
Each of the four is trained on 1, 5, 10, 50 labels per class and on all labels, drawn from the
train split with a fixed seed, and scored on the held-out split. The results are a run folder inside the
checkpoint (<checkpoint>/pretrain/), tied to its weights by a hash.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from explorer.datasets import Dataset
from explorer.device import best_device
from explorer.errors import ExplorerError
from explorer.evaluate import encode_all
from explorer.experiments.base import (
    Experiment,
    ExperimentConfig,
    Progress,
    as_progress,
    check_train,
    load_run,
    register,
    save_run,
)
from explorer.models import ModelConfig, build_model
from explorer.models.base import Autoencoder
from explorer.train import TrainConfig

LABELS_PER_CLASS = (1, 5, 10, 50, None)  # None: every label of the train split
INITS = ("pre-trained", "random")
MODES = ("frozen", "fine-tuned")
RUN_FOLDER = "pretrain"  # inside the checkpoint folder
LEGACY_FILE = "pretrain.json"  # where runs were stored before the shared run folder


@dataclass
class PretrainConfig(ExperimentConfig):
    seeds: int = 3  # label draws per budget (seeds 0, 1, ...)
    # Adam steps per stage (probe, then fine-tune), batch and lr of both; the probe's lr is ten times lr
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=300, batch_size=128, lr=1e-3))

    def __post_init__(self):
        if self.seeds < 1 or not self.train.steps:
            raise ExplorerError("seeds and steps must be positive integers")
        check_train(self.train)


def per_class_name(per_class: int | None) -> str:
    return "all" if per_class is None else str(per_class)


def labelled_subset(y_train: np.ndarray, per_class: int | None, seed: int = 0) -> np.ndarray:
    """Positions in the train split of `per_class` labelled examples of every class (all when None)."""
    if per_class is None:
        return np.arange(len(y_train))
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y_train == c), min(per_class, int((y_train == c).sum())), replace=False)
             for c in np.unique(y_train)]
    return np.sort(np.concatenate(picks))


class Classifier(nn.Module):
    """An autoencoder's encoder (its code) followed by a linear head."""

    def __init__(self, model: Autoencoder, n_classes: int):
        super().__init__()
        self.model = model
        self.head = nn.Linear(model.dim, n_classes)

    def forward(self, x):  # (B, C, H, W) -> (B, K) logits
        return self.head(self.model.encode(x))


def check_encoder(model: Autoencoder) -> None:
    if not model.is_trainable:  # PCA: a fitted projection, no network to fine-tune
        raise ExplorerError(f"pre-training needs an encoder network; {model.family} has none, "
                            "pick an autoencoder checkpoint")


def fresh_copy(model: Autoencoder, seed: int) -> Autoencoder:
    """The same architecture with new random weights."""
    torch.manual_seed(seed)
    return build_model(ModelConfig.from_dict(model.config.to_dict()))


def _train(params, forward, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float, batch_size: int, seed: int):
    """Minimise cross-entropy of forward(x_batch) for a fixed number of Adam steps."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(len(x), (min(batch_size, len(x)),), generator=gen).to(x.device)
        loss = nn.functional.cross_entropy(forward(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


@torch.no_grad()
def _accuracy(forward, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> float:
    hits = 0
    for i in range(0, len(x), batch_size):
        hits += int((forward(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
    return hits / len(x)


def train_and_score(model: Autoencoder, dataset: Dataset, idx: np.ndarray, init: str, seed: int = 0,
                    steps: int = 300, lr: float = 1e-3, batch_size: int = 128) -> dict[str, float]:
    """Held-out accuracy, frozen and fine-tuned, of one classifier trained on the train-split positions idx.

    Fine-tuning starts from the frozen run's head (linear probe, then fine-tune: Kumar et al. 2022),
    so a random head does not wreck pre-trained features in the first steps. Both inits get the same recipe.
    """
    device = best_device()
    encoder = (copy.deepcopy(model) if init == "pre-trained" else fresh_copy(model, seed)).to(device)
    clf = Classifier(encoder, int(dataset.labels.max()) + 1)
    torch.manual_seed(seed)
    clf.head.reset_parameters()
    clf.to(device)
    x, y = dataset.x_train[idx].to(device), torch.as_tensor(dataset.y_train[idx]).to(device)
    x_test, y_test = dataset.x_test.to(device), torch.as_tensor(dataset.y_test).to(device)
    # Frozen: the encoder never changes, so encode once and train the head on the codes (a linear probe).
    z, z_test = encode_all(encoder, x).to(device), encode_all(encoder, x_test).to(device)  # (n, d)
    _train(clf.head.parameters(), clf.head, z, y, steps, 10 * lr, batch_size, seed)
    out = {"frozen": _accuracy(clf.head, z_test, y_test)}
    # Fine-tuned: encoder and head together (the decoder is not part of the classifier).
    clf.train()
    _train(list(encoder.encoder.parameters()) + list(clf.head.parameters()), clf, x, y, steps, lr, batch_size, seed)
    clf.eval()
    out["fine-tuned"] = _accuracy(clf, x_test, y_test)
    return out


def run_pretrain(model: Autoencoder, dataset: Dataset, labels_per_class=LABELS_PER_CLASS, seeds=(0, 1, 2),
                 steps: int = 300, progress=None) -> pd.DataFrame:
    """Held-out accuracy of every init x mode at every label budget, one row per seed.

    progress (a Progress, or a bare progress(message, done, total)) hears before each run; cancelling it stops.
    """
    check_encoder(model)
    if dataset.labels is None:
        raise ExplorerError(f"{dataset.name} has no labels; pre-training needs a labelled dataset")
    progress = as_progress(progress)
    runs = [(k, s, i) for k in labels_per_class for s in seeds for i in INITS]
    rows = []
    for n, (k, seed, init) in enumerate(runs):
        progress(f"{init} encoder, {per_class_name(k)} labels per class, seed {seed}", n, len(runs))
        progress.check()
        idx = labelled_subset(dataset.y_train, k, seed)
        start = time.perf_counter()
        scores = train_and_score(model, dataset, idx, init, seed, steps)
        seconds = time.perf_counter() - start
        rows += [{"labels_per_class": per_class_name(k), "n_labels": len(idx), "init": init, "mode": mode,
                  "seed": seed, "accuracy": acc, "seconds": seconds} for mode, acc in scores.items()]
    progress("done", len(runs), len(runs))
    return pd.DataFrame(rows)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy per budget (rows, in budget order) and init x mode (columns)."""
    order = list(dict.fromkeys(frame["labels_per_class"]))
    table = frame.pivot_table(index="labels_per_class", columns=["init", "mode"], values="accuracy", aggfunc="mean")
    table = table.reindex(order)
    table.columns = [f"{i}, {m}" for i, m in table.columns]
    return table


def gap(frame: pd.DataFrame, labels_per_class: int | str = 10) -> dict[str, float]:
    """Pre-trained minus random-init accuracy at one budget, per mode, and best against best."""
    row = summary(frame).loc[str(labels_per_class)]
    out = {mode: row[f"pre-trained, {mode}"] - row[f"random, {mode}"] for mode in MODES}
    out["best"] = max(row[f"pre-trained, {m}"] for m in MODES) - max(row[f"random, {m}"] for m in MODES)
    return out


def accuracy_curve(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation of the accuracy over label draws, per budget, init and mode (budget order
    kept), with a "classifier" column naming init and mode: the page's chart."""
    means = (frame.groupby(["labels_per_class", "init", "mode"], sort=False)["accuracy"].agg(["mean", "std"])
             .reset_index())
    means["classifier"] = means["init"] + ", " + means["mode"]
    return means


# Stored results: a run folder inside the checkpoint, tied to its weights by a hash.

def weights_hash(ckpt_dir: str | Path) -> str:
    return hashlib.sha256((Path(ckpt_dir) / "model.safetensors").read_bytes()).hexdigest()[:16]


def save_results(frame: pd.DataFrame, ckpt_dir: str | Path, config: PretrainConfig | None = None) -> Path:
    """Write the run folder <ckpt_dir>/pretrain/ atomically."""
    return save_run(Path(ckpt_dir) / RUN_FOLDER, "pretrain", config or PretrainConfig(),
                    {"rows": frame.to_dict(orient="records")}, meta={"weights": weights_hash(ckpt_dir)})


def load_results(ckpt_dir: str | Path) -> pd.DataFrame | None:
    """The stored results for this checkpoint, or None when missing, unreadable or from other weights."""
    ckpt_dir = Path(ckpt_dir)
    try:
        if (ckpt_dir / RUN_FOLDER).is_dir():
            stored = load_run(ckpt_dir / RUN_FOLDER, "pretrain")
            weights, rows = stored.meta.get("weights"), stored.results["rows"]
        else:
            payload = json.loads((ckpt_dir / LEGACY_FILE).read_text())
            weights, rows = payload.get("weights"), payload["rows"]
        return pd.DataFrame(rows) if weights == weights_hash(ckpt_dir) else None
    except (OSError, ValueError, KeyError, TypeError, ExplorerError):
        return None


@dataclass
class PretrainRun:
    checkpoint: Path
    config: PretrainConfig
    frame: pd.DataFrame


def pretrain(config: PretrainConfig, progress: Progress | None = None, checkpoint: str | Path = "",
             data_root: str | None = None) -> PretrainRun:
    """The experiment on one checkpoint: its encoder against random init at every label budget."""
    from explorer.checkpoints import Checkpoint

    ckpt = Checkpoint(checkpoint)
    dataset = ckpt.load_dataset(data_root)
    model = ckpt.load_model(dataset.image_shape)
    frame = run_pretrain(model, dataset, seeds=tuple(range(config.seeds)), steps=config.train.steps,
                         progress=progress)
    return PretrainRun(Path(checkpoint), config, frame)


def report(run: PretrainRun) -> str:
    g = gap(run.frame, 10)
    return (f"{(100 * summary(run.frame)).round(1).to_string()}\n10 labels per class, pre-trained minus random: "
            f"frozen {100 * g['frozen']:+.1f} points, fine-tuned {100 * g['fine-tuned']:+.1f}")


def ship(root=None) -> Path:
    """Stored pre-training results in the two encoders the Pre-train page opens on."""
    from explorer.checkpoints import checkpoint_root

    config = PretrainConfig()
    for name in ("conv-ae-d16", "mlp-ae-d16"):
        path = Path(root or checkpoint_root()) / "mnist5k" / name
        save_results(pretrain(config, checkpoint=path).frame, path, config)
    return path.parent


register(Experiment(
    "pretrain", "Pre-train", ":material/school:", "pretrain", order=20, on_checkpoint=True,
    help="encoder + linear head vs random init at 1, 5, 10, 50 labels per class and all", config=PretrainConfig,
    run=pretrain, save=lambda run, folder=None: save_results(run.frame, run.checkpoint, run.config),
    report=report, train_flags=("steps",),
    flag_help={"seeds": "label draws per budget", "steps": "Adam steps per stage (probe, then fine-tune)"},
    shipped="mnist5k/pretrain", ship=ship))
