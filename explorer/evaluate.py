"""Held-out metrics of a model, and the same metrics of PCA at the same code size beside it.

Everything runs in batches over the stored images, so a million-image set is scored in bounded memory."""

from __future__ import annotations

import numpy as np
import torch

from explorer import metrics
from explorer.datasets import Dataset
from explorer.datasets.images import Images, as_images
from explorer.device import model_device
from explorer.models.base import Autoencoder
from explorer.train import evaluate_loss

TRUST_MAX = 2000  # trustworthiness is O(n^2); measure on at most this many held-out images
# kNN accuracy is scored on at most this many held-out images (evenly spaced), against all training codes
KNN_MAX = 10_000


@torch.no_grad()
def encode_all(model: Autoencoder, x: torch.Tensor | Images, batch_size: int = 2048) -> torch.Tensor:
    """Codes (N, d) on the CPU, computed in batches on the model's device."""
    model.eval()
    codes = torch.empty(len(x), model.dim)  # filled in place: no second copy of a million codes
    for i, xb in enumerate(as_images(x).batches(batch_size, model_device(model))):
        codes[i * batch_size : i * batch_size + len(xb)] = model.encode(xb)
    return codes


@torch.no_grad()
def decode_all(model: Autoencoder, z: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
    model.eval()
    device = model_device(model)
    batches = (z[i : i + batch_size].to(device) for i in range(0, len(z), batch_size))
    return torch.cat([model.decode(b).float().cpu() for b in batches])


def reconstruct(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    return decode_all(model, encode_all(model, x))


def reconstruct_and_score(model: Autoencoder, x: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
    """A few images (N, C, H, W) to show, reconstructed, and each one's sum of squared errors (N,)."""
    x_hat = reconstruct(model, x)
    return x_hat, (x_hat - x.float()).pow(2).flatten(1).sum(1).double().numpy()


@torch.no_grad()
def reconstruction_errors(model: Autoencoder, x: torch.Tensor | Images, batch_size: int = 2048) -> np.ndarray:
    """Each image's sum of squared errors (N,) after encoding and decoding it, in batches."""
    model.eval()
    device = model_device(model)
    errors = [(model.decode(model.encode(xb)) - xb).pow(2).flatten(1).sum(1).double().cpu()
              for xb in as_images(x).batches(batch_size, device)]
    return torch.cat(errors).numpy() if errors else np.zeros(0)


def evenly_spaced(n: int, k: int) -> np.ndarray:
    """k indices spread evenly over range(n) (every index when n <= k): a sample that needs no seed."""
    return np.linspace(0, n - 1, k).round().astype(np.int64) if n > k else np.arange(n)


@torch.no_grad()
def evaluate_model(model: Autoencoder, dataset: Dataset, codes: np.ndarray | None = None) -> dict[str, float]:
    """recon_sse, recon_mse, knn_acc, trustworthiness, the code's active_fraction and dead_units, and the
    family's own measures, on the held-out split.
    codes: the model's codes of every image, if already computed (they spare encoding the training split)."""
    x_test = dataset.images.take(dataset.test_idx)
    z_test = encode_all(model, x_test) if codes is None else torch.from_numpy(np.asarray(codes[dataset.test_idx]))
    sse = reconstruction_errors(model, x_test)
    out = {"recon_sse": float(sse.mean()), "recon_mse": float(sse.sum() / (sse.size * np.prod(dataset.image_shape)))}
    if dataset.labels is not None:
        z_train = (encode_all(model, dataset.images.take(dataset.train_idx)) if codes is None
                   else np.asarray(codes[dataset.train_idx]))
        scored = evenly_spaced(len(z_test), KNN_MAX)
        out["knn_acc"] = metrics.knn_accuracy(z_train, dataset.y_train, z_test[scored], dataset.y_test[scored])
    n = min(len(x_test), TRUST_MAX)
    out["trustworthiness"] = metrics.trustworthiness(x_test[:n].numpy(), z_test[:n].numpy())
    out["active_fraction"] = metrics.active_fraction(z_test.numpy())
    out["dead_units"] = metrics.dead_units(z_test.numpy())
    if model.samples_prior:  # an ELBO: its loss is a bound on the likelihood under the prior
        torch.manual_seed(0)
        out["elbo"] = evaluate_loss(model, x_test)["elbo"]
    if model.baseline:
        out["train_explained_variance"] = float(model.explained_variance_ratio_.sum())  # as Compare names it
    return out


def with_pca_beside(model_metrics: dict, pca_metrics: dict) -> dict:
    """One flat dict: the model's metrics and PCA's as pca_<name>."""
    return {**model_metrics, **{f"pca_{k}": v for k, v in pca_metrics.items()}}
