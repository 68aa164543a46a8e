"""The experiments' contract: a config that embeds its training config, one run folder format (saved atomically,
read without unpickling), one progress-and-cancel handle, and one table of experiments that the CLI, `explorer ship`
and the app read.

An experiment module registers itself with `register(Experiment(...))`; `experiments()` imports every module of
this package first, so a new experiment is one module (plus its page and its test) and no other edit.

A run folder holds config.json ({"experiment", "config", "versions", ...}), results.json, one
<key>.safetensors per bare state dict and one <key>/ ordinary checkpoint per autoencoder.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path

import torch

from explorer.atomic import atomic_write_dir
from explorer.checkpoints import checkpoint_root, cpu_state, load_checkpoint, save_checkpoint, versions
from explorer.errors import ExplorerError
from explorer.train import TrainConfig, TrainLog

CONFIG, RESULTS = "config.json", "results.json"
TRAIN_FIELDS = {f.name for f in fields(TrainConfig)}


# ----- configs ----------------------------------------------------------------------------------------------

@dataclass
class ExperimentConfig:
    """Base of every experiment's config: `train` is the explorer.train.TrainConfig its models are fitted with
    (epochs or steps, batch size, lr, seed), never repeated as fields of the experiment's own."""

    train: TrainConfig = field(default_factory=TrainConfig)

    @classmethod
    def make(cls, **values):
        """The config from flat values: the experiment's own fields, and TrainConfig's (epochs=, lr=, seed=, ...)
        applied to the class's default training config. Unknown names are ignored (configs saved by other versions)."""
        own = {f.name for f in fields(cls)} - {"train"}
        train = values.get("train")
        if isinstance(train, dict):
            train = TrainConfig(**{k: v for k, v in train.items() if k in TRAIN_FIELDS})
        train = replace(train or cls.__dataclass_fields__["train"].default_factory(),
                        **{k: v for k, v in values.items() if k in TRAIN_FIELDS and k not in own})
        return cls(**{k: v for k, v in values.items() if k in own}, train=train)

    @classmethod
    def from_dict(cls, d: dict):
        """A stored config: nested ({"train": {...}}), or flat as saved before the training config was embedded."""
        return cls.make(**d)

    def to_dict(self) -> dict:
        return asdict(self)


def check_train(train: TrainConfig) -> None:
    """One message for a training config no experiment can run."""
    budgets = [n for n in (train.steps, train.epochs) if n is not None]
    if min([train.batch_size, *budgets]) < 1 or train.lr <= 0:
        raise ExplorerError("steps, epochs and batch_size must be positive integers and lr positive")


# ----- progress and cancel ----------------------------------------------------------------------------------

class Cancelled(ExplorerError):
    """A run stopped by its progress handle: nothing was saved."""


class Progress:
    """What a run reports through and what stops it. The experiment calls progress(stage, done, total) (or hands
    progress.fit_callback(stage) to explorer.train.fit); report(stage, done, total), the CLI's bars or the app's
    st.progress, draws it; report returning True, or cancel(), stops the run at the next report."""

    def __init__(self, report: Callable[[str, int, int], bool | None] | None = None):
        self.report = report
        self.cancelled = False

    def __call__(self, stage: str, done: int, total: int) -> bool:
        if self.report is not None and self.report(stage, done, total):
            self.cancelled = True
        return self.cancelled

    def cancel(self) -> None:
        self.cancelled = True

    def fit_callback(self, stage: str) -> Callable[[TrainLog], bool]:
        return lambda log: self(stage, log.step, log.steps)

    def check(self) -> None:
        """Raise Cancelled once the run has been cancelled (after fit returned early, say)."""
        if self.cancelled:
            raise Cancelled("training cancelled; nothing was saved")


def as_progress(progress: Progress | Callable | None) -> Progress:
    """A Progress from None, a bare report callable, or a Progress."""
    return progress if isinstance(progress, Progress) else Progress(progress)


# ----- run folders ------------------------------------------------------------------------------------------

def save_run(folder: str | Path, experiment: str, config, results: dict,
             weights: dict[str, dict[str, torch.Tensor]] | None = None, models: dict | None = None,
             meta: dict | None = None) -> Path:
    """Write a run folder atomically: a failure part-way leaves the old folder (or none), never half a new one.
    weights: key -> state dict or nn.Module (<key>.safetensors); models: key -> Autoencoder (an ordinary checkpoint
    <key>/, whose config.json gets meta and the experiment's name); meta: extra keys of the run's config.json."""
    from safetensors.torch import save_file

    folder, meta = Path(folder), meta or {}
    stored = config.to_dict() if hasattr(config, "to_dict") else asdict(config) if is_dataclass(config) else config

    def write(tmp: Path):
        for key, state in (weights or {}).items():
            tensors = cpu_state(state) if isinstance(state, torch.nn.Module) else state
            save_file(tensors, str(tmp / f"{key}.safetensors"))
        for key, model in (models or {}).items():
            save_checkpoint(model, tmp / key, {**meta, "experiment": experiment, "method": key})
        (tmp / RESULTS).write_text(json.dumps(results, indent=2))
        (tmp / CONFIG).write_text(json.dumps({"experiment": experiment, **meta, "config": stored,
                                              "versions": versions()}, indent=2))

    atomic_write_dir(folder, write)
    return folder


@dataclass
class StoredRun:
    folder: Path
    config: dict  # the experiment's config as stored (ExperimentConfig.from_dict reads it)
    results: dict
    meta: dict  # the rest of config.json

    def weights(self, key: str) -> dict[str, torch.Tensor]:
        from safetensors.torch import load_file

        return load_file(str(self.folder / f"{key}.safetensors"))

    def model(self, key: str, image_shape=None):
        return load_checkpoint(self.folder / key, image_shape)[0]


def _legacy_config(meta: dict, results: dict) -> dict:
    """Runs saved before the shared format: the swap kept its config under "swap" in config.json, the
    disentanglement and over-complete runs theirs under "config" in results.json (and had no config.json)."""
    for stored in (meta.get("swap"), results.get("config")):
        if isinstance(stored, dict):
            return stored
    raise KeyError("config")


def corrupt(folder: Path, what: str, exc: Exception) -> ExplorerError:
    """The one-line error for a run folder whose weights or results do not fit its config."""
    return ExplorerError(f"{folder}: corrupt {what} ({type(exc).__name__}); retrain it")


def load_run(folder: str | Path, experiment: str, what: str | None = None) -> StoredRun:
    """Read a run folder's config and results (json only: nothing is unpickled). A missing folder says which
    command makes it; a damaged one says so in one line."""
    folder = Path(folder)
    what = what or f"{experiment} run"
    if not (folder / RESULTS).is_file():
        raise ExplorerError(f"{folder}: no {what} there; train it with `explorer {experiment}`")
    try:
        results = json.loads((folder / RESULTS).read_text())
        meta = json.loads((folder / CONFIG).read_text()) if (folder / CONFIG).is_file() else {}
        config = meta.pop("config", None) or _legacy_config(meta, results)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise corrupt(folder, what, exc) from None
    return StoredRun(folder, config, results, meta)


# ----- the table --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Experiment:
    """One row of the table. `run`, `save` and `report` are absent for a page that only reads shipped checkpoints;
    `config`'s scalar fields, and `train_flags` of its TrainConfig, become the CLI subcommand's flags."""

    name: str  # the CLI subcommand and the name stored in run folders
    title: str  # the app's page title
    icon: str  # the app's page icon
    page: str  # pages/<page>.py
    help: str = ""  # the subcommand's help
    order: int = 100  # place in the app's Experiments section
    config: type | None = None  # an ExperimentConfig subclass
    run: Callable | None = None  # run(config, progress[, checkpoint]) -> result
    save: Callable | None = None  # save(result, folder or None) -> Path
    report: Callable | None = None  # report(result) -> str: what the CLI prints after saving
    default_dir: Callable | None = None  # default_dir(config, root) -> Path of the run folder
    train_flags: tuple[str, ...] = ("epochs", "lr", "seed")
    flag_help: dict[str, str] = field(default_factory=dict)  # config field -> its CLI flag's help
    on_checkpoint: bool = False  # the run works on a trained checkpoint, the CLI's positional argument
    shipped: str | None = None  # where `explorer ship` stores it under the checkpoint root
    ship: Callable | None = None  # ship(root) -> Path; default: run and save the default config

    def ship_default(self, root=None) -> Path:
        if self.ship is not None:
            return self.ship(root)
        config = self.config()
        return self.save(self.run(config, Progress()), self.default_dir(config, root or checkpoint_root()))


_TABLE: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    _TABLE[experiment.name] = experiment
    return experiment


def experiments() -> dict[str, Experiment]:
    """Every experiment, in the app's order: each module of this package is imported, and registers itself."""
    package = importlib.import_module("explorer.experiments")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name != "base":
            importlib.import_module(f"explorer.experiments.{module.name}")
    return dict(sorted(_TABLE.items(), key=lambda item: item[1].order))
