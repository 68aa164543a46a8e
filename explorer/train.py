"""One model-agnostic training loop (AdamW, cosine schedule, model selection on validation) with callbacks.

The budget counts optimisation steps, not epochs, so that 1,000 images and 1,000,000 images both get a
sensible amount of training: `default_steps` picks it from the data size unless steps or epochs are given.
Regularised for the few-thousand-image case, where a deep autoencoder memorises its training set: weight
decay (for the families that declare it), and the weights that are validated and kept are an exponential
moving average of the trained ones (Polyak averaging). The best weights are chosen on a validation split;
the held-out split never reaches this module. The data stay as stored (uint8, maybe memory-mapped) and are
batched by index, each batch converted to floats on the device: no DataLoader, no per-sample work, and
memory bounded by the data plus one batch. Under torchrun the same loop runs DistributedDataParallel: every
rank draws the same permutation and reads its own share of each batch. The app's progress bar and the
CLI's tqdm bar are two callbacks on this loop."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from explorer import distributed
from explorer.augment import random_flip
from explorer.datasets.images import Images, as_images, to_float
from explorer.device import best_device, model_device
from explorer.models.base import Autoencoder

MIN_STEPS, MAX_STEPS = 3000, 20000  # the default budget's bounds (see default_steps)
MIN_EPOCHS = 30  # the default budget covers the data at least this often while under MAX_STEPS
EVALUATIONS = 30  # validation passes per run: the resolution of model selection and of the progress bar
ON_DEVICE_MAX_BYTES = 4 << 30  # stored data up to this size are copied to a GPU once instead of per batch


@dataclass
class TrainConfig:
    steps: int | None = None  # optimisation steps; None: from epochs, else default_steps
    epochs: int | None = None  # passes over the training images, if steps is not given
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.1  # AdamW's decoupled weight decay, for families that declare decays = True
    ema: float = 0.995  # the weights validated and kept are this exponential moving average (0 = the raw weights)
    flip: bool | None = None  # mirror images at random; None: off here, decided from the data by train_checkpoint
    seed: int = 0
    patience: int = 0  # stop after this many validation passes without improvement; 0 = never
    device: str | None = None  # None picks cuda, then mps, then cpu


def default_steps(n_train: int, batch_size: int) -> int:
    """MIN_EPOCHS passes over the data, but never fewer than MIN_STEPS or more than MAX_STEPS steps.

    A few thousand images get MIN_STEPS (about a minute on 2 CPU cores), which small sets need: at a
    few dozen steps per epoch a fixed epoch count starves them. A million images get MAX_STEPS."""
    per_epoch = math.ceil(n_train / batch_size)
    return int(min(max(MIN_EPOCHS * per_epoch, MIN_STEPS), MAX_STEPS))


def resolve_steps(config: TrainConfig, n_train: int) -> int:
    if config.steps:
        return int(config.steps)
    if config.epochs:
        return int(config.epochs) * math.ceil(n_train / config.batch_size)
    return default_steps(n_train, config.batch_size)


def describe_budget(config: TrainConfig, n_train: int) -> str:
    """One line stating the budget and where it came from, e.g. for the CLI and the Train page."""
    steps = resolve_steps(config, n_train)
    source = ("as asked" if config.steps else f"{config.epochs} epochs" if config.epochs
              else "the default for this data size")
    return (f"{steps:,} steps of batch {config.batch_size} = {steps * config.batch_size / n_train:.1f} epochs "
            f"of {n_train:,} training images ({source})")


@dataclass
class TrainLog:
    step: int  # optimisation steps done
    steps: int  # the budget
    epoch: float  # passes over the training images done
    train_loss: float  # mean training loss since the last log
    val_loss: float  # validation loss now
    terms: dict[str, float]  # validation named loss terms
    seconds: float  # since training began
    validated: Autoencoder | None = field(default=None, repr=False)  # the weights just validated (averaged)


@dataclass
class TrainResult:
    history: list[TrainLog] = field(default_factory=list)
    steps: int = 0  # the budget
    seconds: float = 0.0
    validation_seconds: float = 0.0  # of seconds, spent scoring the validation split
    stopped_early: bool = False
    cancelled: bool = False
    best_step: int = 0


Callback = Callable[[TrainLog], bool | None]  # called after every validation pass; returning True cancels


@torch.no_grad()
def evaluate_loss(model: Autoencoder, x: torch.Tensor | Images, batch_size: int = 1024,
                  seed: int | None = None) -> dict[str, float]:
    """Named loss terms, averaged over the whole set (weighted by batch size). With a seed, the loss's own
    randomness (a VAE's samples, a denoiser's noise) comes from it and the global generators are left as they
    were: fit scores every validation pass with the same draws, so passes differ only by their weights."""
    model.eval()
    device = model_device(model)
    totals: dict[str, float] = {}
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else [], enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        for xb in as_images(x).batches(batch_size, device):
            for k, v in model.loss(xb).items():
                totals[k] = totals.get(k, 0.0) + float(v) * len(xb)
    return {k: v / len(x) for k, v in totals.items()}


def _memory_format(model: Autoencoder) -> torch.memory_format:
    """Channels-last for convolutional models: on one CPU thread oneDNN's convolutions ran 15-23 % faster
    in it, on two about as fast (benchmarks/throughput.py); fully connected models keep the default layout."""
    has_conv = any(p.dim() == 4 for p in model.parameters())
    return torch.channels_last if has_conv else torch.contiguous_format


@torch.no_grad()
def _ema_update(averaged: Autoencoder, model: Autoencoder, decay: float) -> None:
    avg, new = list(averaged.parameters()), list(model.parameters())
    torch._foreach_lerp_(avg, new, 1 - decay)


def _batches(n: int, batch_size: int, gen: torch.Generator):
    """Endless index batches: a fresh permutation per epoch, the last short batch kept. Under torchrun every
    rank draws the same permutation and keeps its own share of each batch; sorted, for memory-map locality."""
    rank, world = distributed.rank(), distributed.world_size()
    while True:
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, batch_size):
            yield order[i : i + batch_size][rank::world].sort().values


class _Loss(nn.Module):
    """model.loss as forward, so DistributedDataParallel sees (and synchronises) the call. A model that sets
    takes_rows = True also gets the batch's rows (positions in x_train): its training loss needs to know more
    about a sample than its pixels (DC-IGN: which factor a one-factor batch varies). Validation calls loss(x)."""

    def __init__(self, model: Autoencoder):
        super().__init__()
        self.model = model

    def forward(self, x, rows=None):
        return self.model.loss(x) if rows is None else self.model.loss(x, rows=rows)


def _on_device(x: Images, device: torch.device) -> Images:
    """The stored data copied to a GPU once when they fit; else left where they are and sent per batch."""
    fits = x.storage.element_size() * math.prod(x.shape) <= ON_DEVICE_MAX_BYTES
    return Images(x.raw().to(device)) if device.type != "cpu" and fits else x


def fit(model: Autoencoder, x_train: torch.Tensor | Images, x_val: torch.Tensor | Images,
        config: TrainConfig | None = None, callbacks: list[Callback] | None = None) -> TrainResult:
    """Train model on x_train for the step budget; keep the weights with the best validation loss.

    x_train and x_val are tensors or Images views (uint8 or float, maybe memory-mapped). Under torchrun
    (explorer.distributed.init called first) gradients are averaged across ranks; callbacks run on rank 0."""
    config = config or TrainConfig()
    callbacks = (callbacks or []) if distributed.is_main() else []
    if distributed.active():
        device = distributed.device()
    else:
        device = torch.device(config.device) if config.device else best_device()
    torch.manual_seed(config.seed)
    model.to(device)
    result = TrainResult()
    start = time.perf_counter()
    x_train, x_val = as_images(x_train), as_images(x_val)
    if not model.is_trainable:  # PCA: closed form, in batches
        model.fit(x_train)
        result.seconds = time.perf_counter() - start
        return result
    x_train, x_val = _on_device(x_train, device), _on_device(x_val, device)
    layout = _memory_format(model)
    model.to(memory_format=layout)
    total = result.steps = resolve_steps(config, len(x_train))
    every = math.ceil(total / EVALUATIONS)
    decay = config.weight_decay if getattr(model, "decays", False) else 0.0  # experiments train plain nn.Modules too
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=decay)
    averaged = copy.deepcopy(model) if config.ema else model  # Polyak averaging: smoother, generalises better
    step_loss = _Loss(model)
    if distributed.active():
        # Every family's loss reaches all of its parameters (tests/test_models.py checks it), so DDP need not
        # search the graph for unused ones each step.
        step_loss = nn.parallel.DistributedDataParallel(step_loss)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    gen = torch.Generator().manual_seed(config.seed)  # the same on every rank: one permutation
    flips = torch.Generator().manual_seed(config.seed + 1 + distributed.rank())
    batches = _batches(len(x_train), config.batch_size, gen)
    takes_rows = getattr(model, "takes_rows", False)
    best, best_state, since_best = math.inf, None, 0
    running, seen = 0.0, 0
    model.train()
    schedule = getattr(model, "set_progress", None)  # models with a training schedule of their own (sparse-ae's k)
    for step in range(1, total + 1):
        if schedule:
            schedule((step - 1) / total)
        rows = next(batches)
        xb = to_float(x_train.raw(rows).to(device, non_blocking=True))
        if xb.dim() == 4:  # image batches (some experiments train on pairs)
            xb = xb.contiguous(memory_format=layout)
        if config.flip:
            xb = random_flip(xb, flips)
        loss = step_loss(xb, rows if takes_rows else None)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if config.ema:
            _ema_update(averaged, model, min(config.ema, step / (step + 10)))  # short memory at first
        running += float(loss.detach()) * len(xb)
        seen += len(xb)
        if step % every and step != total:
            continue
        scoring = time.perf_counter()
        terms = evaluate_loss(averaged, x_val, seed=config.seed)  # every rank: the same weights, images and draws
        result.validation_seconds += time.perf_counter() - scoring
        model.train()
        log = TrainLog(step, total, step * config.batch_size / len(x_train), running / seen, terms["loss"], terms,
                       time.perf_counter() - start, averaged)
        running, seen = 0.0, 0
        result.history.append(log)
        if terms["loss"] < best:
            best, since_best, result.best_step = terms["loss"], 0, step
            best_state = copy.deepcopy(averaged.state_dict())
        else:
            since_best += 1
        if distributed.broadcast_flag(any(cb(log) for cb in callbacks)):
            result.cancelled = True
            break
        if config.patience and since_best >= config.patience:
            result.stopped_early = True
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.to(memory_format=torch.contiguous_format).eval()
    result.seconds = time.perf_counter() - start
    return result
