"""Held-out metrics of a model, and the same metrics of PCA at the same code size beside it."""

from __future__ import annotations

import torch

from explorer import metrics
from explorer.datasets import Dataset
from explorer.models.base import Autoencoder

TRUST_MAX = 2000  # trustworthiness is O(n^2); measure on at most this many held-out images


def model_device(model: Autoencoder) -> torch.device:
    """Where the model's tensors live (PCA has buffers but no parameters)."""
    return next(iter(model.state_dict().values())).device


@torch.no_grad()
def encode_all(model: Autoencoder, x: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    """Codes (N, d) on the CPU, computed in batches on the model's device."""
    model.eval()
    device = model_device(model)
    return torch.cat([model.encode(x[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)])


@torch.no_grad()
def decode_all(model: Autoencoder, z: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    model.eval()
    device = model_device(model)
    return torch.cat([model.decode(z[i : i + batch_size].to(device)).float().cpu() for i in range(0, len(z), batch_size)])


def reconstruct(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    return decode_all(model, encode_all(model, x))


@torch.no_grad()
def evaluate_model(model: Autoencoder, dataset: Dataset) -> dict[str, float]:
    """recon_sse, recon_mse, knn_acc, trustworthiness and the family's own measures on the held-out split."""
    x_test = dataset.x_test
    z_test = encode_all(model, x_test)
    x_hat = decode_all(model, z_test)
    out = {"recon_sse": metrics.recon_sse(x_hat, x_test), "recon_mse": metrics.recon_mse(x_hat, x_test)}
    if dataset.labels is not None:
        z_train = encode_all(model, dataset.x_train)
        out["knn_acc"] = metrics.knn_accuracy(z_train, dataset.y_train, z_test, dataset.y_test)
    n = min(len(x_test), TRUST_MAX)
    out["trustworthiness"] = metrics.trustworthiness(x_test[:n].numpy(), z_test[:n].numpy())
    out["sparsity"] = metrics.code_sparsity(z_test.numpy())
    if model.family == "vae":
        from explorer.train import evaluate_loss

        device = model_device(model)
        torch.manual_seed(0)
        out["elbo"] = evaluate_loss(model, x_test.to(device))["elbo"]
    if model.family == "pca":
        out["explained_variance"] = float(model.explained_variance_ratio_.sum())
    return out


def with_pca_beside(model_metrics: dict, pca_metrics: dict) -> dict:
    """One flat dict: the model's metrics and PCA's as pca_<name>."""
    return {**model_metrics, **{f"pca_{k}": v for k, v in pca_metrics.items()}}
