"""Train a model end to end: load data, fit, fit PCA at the same d beside it, evaluate, save both.

The training split is cut into a part the model is fitted on and a validation part that picks its best
weights; the held-out split is only reported. PCA, which chooses nothing, is fitted on the whole
training split: the baseline sees every training image the model saw and more. Under torchrun every rank
trains and rank 0 alone evaluates and writes; the codes of every image are stored beside each checkpoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from explorer import distributed
from explorer.augment import looks_alike_in_a_mirror
from explorer.checkpoints import Checkpoint, checkpoint_name, default_dir, same_data, save_checkpoint
from explorer.codes import store_codes
from explorer.datasets import Dataset, load_dataset
from explorer.datasets.base import SPLIT_SEED
from explorer.errors import ExplorerError
from explorer.evaluate import encode_all, evaluate_model, with_pca_beside
from explorer.models import Autoencoder, ModelConfig, build_model
from explorer.models.base import family_class
from explorer.models.likelihood import choose_loss
from explorer.train import TrainConfig, TrainResult, describe_budget, fit


def split_meta(dataset: Dataset, validated: bool = True) -> dict:
    """The split a model saw: n_train images fitted on, n_validation chosen on (0 for PCA), n_test reported."""
    n_val = len(dataset.validation_split()[1]) if validated else 0
    return {"seed": SPLIT_SEED, "n_train": len(dataset.train_idx) - n_val, "n_validation": n_val,
            "n_test": len(dataset.test_idx)}


def data_record(dataset: Dataset, spec: str, image_size=None, color="gray") -> dict:
    """What a model is fitted on, recorded in its config ("fitted_on"): a PCA baseline is reused beside a model
    only when its record matches (explorer.checkpoints.same_data). The images' fingerprint changes with the data,
    the digest of the training rows with the split."""
    train = np.ascontiguousarray(dataset.train_idx, dtype=np.int64)
    return {"dataset": spec, "dataset_options": {"image_size": image_size, "color": color},
            "n_train": len(dataset.train_idx), "n_test": len(dataset.test_idx), "images": dataset.fingerprint,
            "train_rows": hashlib.sha1(train.tobytes()).hexdigest()[:16]}


def dataset_meta(dataset: Dataset, spec: str, image_size=None, color="gray", validated: bool = True) -> dict:
    return {
        "dataset": spec,
        "dataset_options": {"image_size": image_size, "color": color},
        "image_shape": list(dataset.image_shape),
        "split": split_meta(dataset, validated),
        "fitted_on": data_record(dataset, spec, image_size, color),
        "class_names": dataset.class_names,
    }


def fit_pca(dataset: Dataset, dim: int):
    """PCA at code size dim, fitted on the training split."""
    pca = build_model(ModelConfig("pca", dataset.image_shape, dim))
    return pca.fit(dataset.images.take(dataset.train_idx))


def stored_pca(path: Path, dim: int, fitted_on: dict) -> Checkpoint | None:
    """The PCA checkpoint at path when it is PCA at code size dim fitted on this data (see data_record), else None:
    a folder of another dataset's options (sprites at 32 and 64 pixels share one), or of data since changed, or a
    corrupt one, is not reused."""
    try:
        ckpt = Checkpoint(path)
    except ExplorerError:
        return None
    if ckpt.family != "pca" or ckpt.dim != dim or not same_data(ckpt.fitted_on, fitted_on):
        return None
    return ckpt


def ensure_pca(dataset: Dataset, path: Path, dim: int, meta: dict):
    """The PCA baseline checkpoint at path: loaded when it was fitted on the same data (meta["fitted_on"], from
    dataset_meta), else fitted and saved there, replacing a stale one. Returns (model, metrics, path)."""
    stored = stored_pca(path, dim, meta["fitted_on"])
    if stored is not None:
        return stored.load_model(dataset.image_shape), stored.metrics, path
    pca = fit_pca(dataset, dim)
    codes = encode_all(pca, dataset.images).numpy()
    pca_metrics = evaluate_model(pca, dataset, codes)
    meta = {**meta, "split": split_meta(dataset, validated=False), "pca_checkpoint": path.name}  # its own baseline
    save_checkpoint(pca, path, {**meta, "metrics": pca_metrics, "pca_metrics": pca_metrics,
                                "train": {"seconds": 0.0}})
    store_codes(path, pca, dataset, together=False, codes=codes)
    store_map_and_index(path, codes)
    return pca, pca_metrics, path


def store_map_and_index(path: Path, codes: np.ndarray) -> None:
    """What the pages need to open at once on a large set, stored beside the checkpoint: the PCA map of the
    codes (UMAP and t-SNE take minutes: `explorer maps`) and, where search is approximate, the neighbour index."""
    from explorer.neighbors import APPROX_THRESHOLD, build_index
    from explorer.project import project

    if codes.shape[1] > 2:  # a 2-D code is its own map
        project(codes, "pca", path)
    if len(codes) > APPROX_THRESHOLD:
        build_index(path, codes)


def pca_baseline(ckpt: Checkpoint, dataset: Dataset) -> tuple[Autoencoder, Checkpoint | None]:
    """(model, its checkpoint): the PCA baseline recorded beside ckpt at save time, when it was fitted on this
    dataset as loaded now; else PCA fitted now on its training split, not stored, with None for its checkpoint."""
    stored = ckpt.pca()
    image_size, color = ckpt.dataset_options
    if stored is not None and same_data(stored.fitted_on, data_record(dataset, ckpt.spec, image_size, color)):
        return stored.load_model(dataset.image_shape), stored
    return fit_pca(dataset, ckpt.dim), None


def beats_pca(metrics: dict) -> bool:
    """A lower held-out error than PCA's at the same d."""
    return metrics["recon_sse"] < metrics["pca_recon_sse"]


def pca_verdict(metrics: dict, family: str) -> str | None:
    """One plain line when the model is worse than PCA at the same d (None when it is not, or is PCA itself),
    with what to try."""
    if family_class(family).baseline or beats_pca(metrics):
        return None
    ratio = metrics["recon_sse"] / metrics["pca_recon_sse"]
    return (f"this model is worse than PCA: held-out error {ratio:.2f}x PCA's at the same d; "
            "train longer (more steps), try conv-ae, or another loss (bernoulli for near-binary images, "
            "gaussian for photographs)")


def train_checkpoint(spec: str, family: str, dim: int, train_config: TrainConfig | None = None,
                     model_options: dict | None = None, out: str | Path | None = None, root=None,
                     callbacks: list | None = None, data_root=None, image_size=None, color="gray",
                     dataset: Dataset | None = None,
                     announce: Callable[[str], None] | None = None) -> tuple[Path, dict, TrainResult]:
    """Train `family` at code size `dim` on dataset `spec` and save it with PCA beside it.

    model_options may hold "loss": "auto" (the default: chosen from the training pixels), "bernoulli"
    or "gaussian". train_config.flip None (the default) turns mirror-image augmentation on for data that
    look alike in a mirror (explorer.augment). announce, if given, receives one line stating the budget,
    the loss and the augmentation before training. Returns the checkpoint folder, its held-out metrics
    (with pca_* beside) and the training result. Under torchrun (explorer.distributed.init first) ranks other
    than 0 return metrics None: rank 0 alone evaluates and writes.
    """
    train_config = train_config or TrainConfig()
    dataset = dataset or load_dataset(spec, data_root=data_root, image_size=image_size, color=color)
    fit_idx, val_idx = dataset.validation_split()
    x_fit, x_val = dataset.images.take(fit_idx), dataset.images.take(val_idx)
    options = dict(model_options or {})
    options["loss"] = choose_loss(x_fit, options.get("loss", "auto"))
    torch.manual_seed(train_config.seed)  # the seed sets the initial weights too: a run is repeatable
    model = build_model(ModelConfig.create(family, dataset.image_shape, dim, **options))
    meta = dataset_meta(dataset, spec, image_size, color, validated=model.is_trainable)
    if train_config.flip is None and model.is_trainable:
        train_config = replace(train_config, flip=looks_alike_in_a_mirror(x_fit, x_val))
    if announce and model.is_trainable and distributed.is_main():
        announce(f"training {family} d={dim} for {describe_budget(train_config, len(x_fit))}; "
                 f"{options['loss']} likelihood; mirror-image augmentation {'on' if train_config.flip else 'off'}; "
                 f"best weights chosen on {len(x_val):,} validation images")
    # PCA selects nothing, so like every PCA baseline it fits on the whole training split
    x_all_train = dataset.images.take(dataset.train_idx)
    result = fit(model, x_fit if model.is_trainable else x_all_train, x_val, train_config, callbacks)
    path = Path(out) if out else default_dir(spec, family, dim, root)
    if not distributed.is_main():
        return path, None, result
    model.cpu()
    codes = encode_all(model, dataset.images).numpy()  # once: for the metrics and stored beside the checkpoint
    model_metrics = evaluate_model(model, dataset, codes)
    if model.is_trainable:  # PCA beside it, refitted when the one there was fitted on other data
        _, pca_metrics, pca_path = ensure_pca(dataset, path.parent / checkpoint_name("pca", dim), dim, meta)
    else:  # PCA is its own baseline
        pca_metrics, pca_path = model_metrics, path
    all_metrics = with_pca_beside(model_metrics, pca_metrics)
    train_meta = {"config": asdict(train_config), "steps": result.steps, "seconds": result.seconds,
                  "validation_seconds": result.validation_seconds, "best_step": result.best_step,
                  "cancelled": result.cancelled, "distributed": distributed.describe(),
                  "history": [{"step": h.step, "epoch": h.epoch, "train_loss": h.train_loss, "val_loss": h.val_loss}
                              for h in result.history]}
    if not result.cancelled:
        save_checkpoint(model, path, {**meta, "metrics": model_metrics, "pca_metrics": pca_metrics,
                                      "beats_pca": beats_pca(all_metrics), "pca_checkpoint": pca_path.name,
                                      "train": train_meta})
        store_codes(path, model, dataset, together=False, codes=codes)  # rank 0 alone: the others are done
        store_map_and_index(path, codes)
    return path, all_metrics, result
