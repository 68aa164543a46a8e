"""Train a model end to end: load data, fit, fit PCA at the same d beside it, evaluate, save both."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from explorer.checkpoints import checkpoint_name, default_dir, load_checkpoint, save_checkpoint
from explorer.datasets import Dataset, load_dataset
from explorer.datasets.base import SPLIT_SEED
from explorer.evaluate import evaluate_model, with_pca_beside
from explorer.models import ModelConfig, build_model
from explorer.train import TrainConfig, TrainResult, fit


def dataset_meta(dataset: Dataset, spec: str, image_size=None, color="gray") -> dict:
    return {
        "dataset": spec,
        "dataset_options": {"image_size": image_size, "color": color},
        "image_shape": list(dataset.image_shape),
        "split": {"seed": SPLIT_SEED, "n_train": len(dataset.train_idx), "n_test": len(dataset.test_idx)},
        "class_names": dataset.class_names,
    }


def fit_pca(dataset: Dataset, dim: int):
    pca = build_model(ModelConfig("pca", dataset.image_shape, dim))
    return pca.fit(dataset.x_train)


def ensure_pca(dataset: Dataset, path: Path, dim: int, meta_extra: dict | None = None):
    """The PCA baseline checkpoint at path: loaded when it exists, else fitted and saved."""
    if (path / "config.json").exists():
        pca, config = load_checkpoint(path, dataset.image_shape)
        return pca, config["metrics"], path
    pca = fit_pca(dataset, dim)
    pca_metrics = evaluate_model(pca, dataset)
    save_checkpoint(pca, path, {**(meta_extra or {}), "metrics": pca_metrics, "pca_metrics": pca_metrics,
                                "train": {"seconds": 0.0}})
    return pca, pca_metrics, path


def train_checkpoint(spec: str, family: str, dim: int, train_config: TrainConfig | None = None,
                     model_options: dict | None = None, out: str | Path | None = None, root=None,
                     callbacks: list | None = None, data_root=None, image_size=None, color="gray",
                     dataset: Dataset | None = None) -> tuple[Path, dict, TrainResult]:
    """Train `family` at code size `dim` on dataset `spec` and save it with PCA beside it.

    Returns the checkpoint folder, its held-out metrics (with pca_* beside) and the training result.
    """
    train_config = train_config or TrainConfig()
    dataset = dataset or load_dataset(spec, data_root=data_root, image_size=image_size, color=color)
    meta = dataset_meta(dataset, spec, image_size, color)
    model = build_model(ModelConfig(family, dataset.image_shape, dim, **(model_options or {})))
    result = fit(model, dataset.x_train, dataset.x_test, train_config, callbacks)
    model.cpu()
    model_metrics = evaluate_model(model, dataset)
    path = Path(out) if out else default_dir(spec, family, dim, root)
    _, pca_metrics, _ = ensure_pca(dataset, path.parent / checkpoint_name("pca", dim), dim, meta)  # beside the model
    all_metrics = with_pca_beside(model_metrics, pca_metrics)
    train_meta = {"config": asdict(train_config), "seconds": result.seconds, "epochs_run": len(result.history),
                  "best_epoch": result.best_epoch, "cancelled": result.cancelled,
                  "history": [{"epoch": h.epoch, "train_loss": h.train_loss, "test_loss": h.test_loss} for h in result.history]}
    if not result.cancelled:
        save_checkpoint(model, path, {**meta, "metrics": model_metrics, "pca_metrics": pca_metrics, "train": train_meta})
    return path, all_metrics, result
