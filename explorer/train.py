"""One model-agnostic training loop (Adam, cosine schedule, early stopping) with per-epoch callbacks.

The data live as one tensor on the device and are batched by index: no DataLoader, no per-sample work.
The app's progress bar and the CLI's tqdm bar are two callbacks on this loop.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from explorer.device import best_device
from explorer.models.base import Autoencoder


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    seed: int = 0
    patience: int = 0  # stop after this many epochs without a better held-out loss; 0 = never
    device: str | None = None  # None picks cuda, then mps, then cpu


@dataclass
class EpochLog:
    epoch: int  # 1-based
    epochs: int
    train_loss: float
    test_loss: float
    terms: dict[str, float]  # held-out named loss terms
    seconds: float  # since training began


@dataclass
class TrainResult:
    history: list[EpochLog] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False
    cancelled: bool = False
    best_epoch: int = 0


Callback = Callable[[EpochLog], bool | None]  # called after every epoch; returning True cancels training


@torch.no_grad()
def evaluate_loss(model: Autoencoder, x: torch.Tensor, batch_size: int = 1024) -> dict[str, float]:
    """Held-out named loss terms, averaged over the whole set (weighted by batch size)."""
    model.eval()
    totals: dict[str, float] = {}
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size]
        for k, v in model.loss(xb).items():
            totals[k] = totals.get(k, 0.0) + float(v) * len(xb)
    return {k: v / len(x) for k, v in totals.items()}


def fit(model: Autoencoder, x_train: torch.Tensor, x_test: torch.Tensor, config: TrainConfig | None = None,
        callbacks: list[Callback] | None = None) -> TrainResult:
    """Train model on x_train, report held-out loss on x_test each epoch; keeps the best weights."""
    config = config or TrainConfig()
    callbacks = callbacks or []
    device = torch.device(config.device) if config.device else best_device()
    torch.manual_seed(config.seed)
    model.to(device)
    x_train, x_test = x_train.to(device), x_test.to(device)
    result = TrainResult()
    start = time.perf_counter()
    if not model.is_trainable:  # PCA: closed form
        model.fit(x_train)
        result.seconds = time.perf_counter() - start
        return result
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    steps_per_epoch = math.ceil(len(x_train) / config.batch_size)
    total = config.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    gen = torch.Generator(device="cpu").manual_seed(config.seed)
    best, best_state, since_best = math.inf, None, 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=gen).to(device)
        running = 0.0
        for i in range(0, len(x_train), config.batch_size):
            xb = x_train[order[i : i + config.batch_size]]
            loss = model.loss(xb)["loss"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            running += float(loss.detach()) * len(xb)
        terms = evaluate_loss(model, x_test)
        log = EpochLog(epoch, config.epochs, running / len(x_train), terms["loss"], terms, time.perf_counter() - start)
        result.history.append(log)
        if terms["loss"] < best:
            best, since_best, result.best_epoch = terms["loss"], 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
        if any(cb(log) for cb in callbacks):
            result.cancelled = True
            break
        if config.patience and since_best >= config.patience:
            result.stopped_early = True
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - start
    return result
