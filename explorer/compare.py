"""The numbers behind the Compare page: every checkpoint of a dataset beside PCA's whole curve over d.

Every measure is on the same held-out split. PCA is fitted once at the largest d and truncated: its
components are nested (the first k axes of a fit at d are the fit at k), so the curve is exact and cheap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from explorer import metrics
from explorer.datasets import Dataset
from explorer.errors import ExplorerError
from explorer.evaluate import TRUST_MAX, reconstruct
from explorer.models import MODELS

MAX_CURVE_DIM = 256  # PCA's curve runs over d = 1 .. min(this, pixels, training images)
KNN_DIMS = (1, 2, 4, 8, 16, 32, 64, 128)  # where PCA's kNN / trustworthiness are measured (plus the checkpoints' d)
METRICS = ("recon_sse", "recon_mse", "knn_acc", "trustworthiness", "active_fraction", "dead_units", "elbo")
LABELS = {"recon_sse": "held-out error (sum of squares per image)", "knn_acc": "kNN accuracy (k = 5)",
          "trustworthiness": "trustworthiness (k = 5)", "explained_variance": "held-out variance explained",
          "active_fraction": "active share of code units per image", "dead_units": "code units never active",
          "dim": "code size d"}


def heldout_total_sse(dataset: Dataset) -> float:
    """Per-image sum of squares of the held-out images around the training mean: the error of d = 0."""
    mean = dataset.x_train.double().mean(0)
    return float((dataset.x_test.double() - mean).pow(2).flatten(1).sum(1).mean())


def checkpoint_table(checkpoints, image_shape: tuple | None = None, total_sse: float | None = None) -> pd.DataFrame:
    """One row per Checkpoint of one dataset (optionally only those of this image shape), sorted by family then d:
    the held-out metrics stored at training time and PCA's at the same d beside them.

    total_sse (heldout_total_sse of the dataset) adds explained_variance = 1 - recon_sse / total_sse,
    defined the same way for every model so PCA and the autoencoders are on one scale.
    """
    rows = []
    for ckpt in checkpoints:
        model = ckpt.config["model"]
        if image_shape and tuple(model["image_shape"]) != tuple(image_shape):
            continue
        m, p = ckpt.metrics, ckpt.config.get("pca_metrics", {})
        row = {"checkpoint": ckpt.name, "family": ckpt.family, "dim": ckpt.dim}
        row.update({k: float(m.get(k, np.nan)) for k in METRICS})
        row.update({f"pca_{k}": float(p.get(k, np.nan)) for k in ("recon_sse", "knn_acc", "trustworthiness")})
        row["error_vs_pca"] = row["recon_sse"] / row["pca_recon_sse"]
        row["train_seconds"] = float(ckpt.config.get("train", {}).get("seconds", np.nan))
        row["path"] = str(ckpt.path)
        rows.append(row)
    columns = ["checkpoint", "family", "dim", *METRICS, "pca_recon_sse", "pca_knn_acc", "pca_trustworthiness",
               "error_vs_pca", "train_seconds", "path"]
    frame = pd.DataFrame(rows, columns=columns)
    if total_sse:
        frame.insert(frame.columns.get_loc("active_fraction"), "explained_variance", 1 - frame["recon_sse"] / total_sse)
    order = {name: i for i, name in enumerate(MODELS)}
    frame = frame.sort_values(["family", "dim"], key=lambda s: s.map(order) if s.name == "family" else s)
    empty = [c for c in (*METRICS, "explained_variance") if c in frame and frame[c].isna().all()]
    return frame.drop(columns=empty).reset_index(drop=True)  # e.g. no elbo column without a VAE


def principal_axes(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """PCA of rows x (N, D) by an eigendecomposition of the scatter matrix: mean (D,), the top-k
    orthonormal axes (k, D) and their explained variance ratios (k,). The same subspace as
    scikit-learn's PCA (signs aside, which no measure here sees), several times faster at large k."""
    mean = x.mean(0)
    centred = x - mean
    # Constant pixels (MNIST's blank border) carry no variance; leaving their all-zero block in the
    # matrix sends LAPACK through denormal numbers, 30x slower. They get zero weight in every axis.
    live = centred.abs().amax(0) > 0  # (D,)
    scatter = centred[:, live].T @ centred[:, live]  # (D_live, D_live)
    values, vectors = (torch.from_numpy(a) for a in np.linalg.eigh(scatter.numpy()))  # ascending
    values, vectors = values.flip(0).clamp_min(0), vectors.flip(1)
    k = min(k, int(live.sum()))
    axes = torch.zeros(k, x.shape[1], dtype=x.dtype)
    axes[:, live] = vectors[:, :k].T
    return mean, axes, values[:k] / values.sum()


def pca_curve(dataset: Dataset, max_dim: int | None = None, knn_dims=KNN_DIMS) -> pd.DataFrame:
    """PCA over d = 1 .. max_dim on the held-out split: one row per d with recon_sse, explained_variance
    (held-out, 1 - recon_sse / the d = 0 error), train_explained_variance (scikit-learn's cumulative ratio),
    and knn_acc / trustworthiness at the d in knn_dims (NaN elsewhere: they cost a classifier per d)."""
    n_train, n_pixels = len(dataset.train_idx), int(np.prod(dataset.image_shape))
    max_dim = min(max_dim or MAX_CURVE_DIM, n_pixels, n_train)
    if max_dim < 1:
        raise ExplorerError(f"{dataset.name}: too few images or pixels for a PCA curve")
    mean, comps, ratio = principal_axes(dataset.x_train.double().flatten(1), max_dim)
    max_dim = len(comps)  # no more axes than pixels that vary
    centred_test = dataset.x_test.double().flatten(1) - mean  # (N_test, D)
    z_test = centred_test @ comps.T  # (N_test, max_dim)
    total = centred_test.pow(2).sum(1)  # (N_test,) error at d = 0
    # With orthonormal components, the error at d is the total minus the energy of the first d coordinates.
    sse = (total[:, None] - z_test.pow(2).cumsum(1)).clamp_min(0).mean(0)  # (max_dim,)
    dims = np.arange(1, max_dim + 1)
    frame = pd.DataFrame({"dim": dims, "recon_sse": sse.numpy(),
                          "explained_variance": 1 - sse.numpy() / float(total.mean()),
                          "train_explained_variance": ratio.cumsum(0).numpy()})
    frame["knn_acc"], frame["trustworthiness"] = np.nan, np.nan
    z_train = (dataset.x_train.double().flatten(1) - mean) @ comps.T  # (N_train, max_dim)
    n_trust = min(len(z_test), TRUST_MAX)
    x_trust = dataset.x_test[:n_trust].flatten(1).numpy()
    for d in sorted({int(d) for d in knn_dims if 1 <= d <= max_dim}):
        row = d - 1
        if dataset.labels is not None:
            frame.loc[row, "knn_acc"] = metrics.knn_accuracy(z_train[:, :d].numpy(), dataset.y_train,
                                                             z_test[:, :d].numpy(), dataset.y_test)
        frame.loc[row, "trustworthiness"] = metrics.trustworthiness(x_trust, z_test[:n_trust, :d].numpy())
    return frame


def metric_figure(curve: pd.DataFrame, table: pd.DataFrame, metric: str, title: str | None = None):
    """A plotly chart of `metric` against code size: PCA's curve (a line over every d where it was measured)
    and one line of markers per autoencoder family; log-scaled d."""
    import plotly.graph_objects as go

    fig = go.Figure()
    pca = curve.dropna(subset=[metric]) if metric in curve else curve.iloc[:0]
    fig.add_trace(go.Scatter(x=pca["dim"], y=pca[metric], mode="lines" if len(pca) > 20 else "lines+markers",
                             name="PCA (curve)", line=dict(color="black", dash="dot")))
    if metric in table:
        for family, rows in table[table["family"] != "pca"].groupby("family", sort=False):
            rows = rows.dropna(subset=[metric]).sort_values("dim")
            if len(rows):
                fig.add_trace(go.Scatter(x=rows["dim"], y=rows[metric], mode="lines+markers", name=family,
                                         text=rows["checkpoint"], marker=dict(size=10),
                                         hovertemplate="%{text}<br>d=%{x}<br>%{y:.4g}<extra></extra>"))
    fig.update_layout(title=title or LABELS.get(metric, metric), xaxis_title=LABELS["dim"],
                      yaxis_title=LABELS.get(metric, metric), height=380, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", y=-0.25))
    fig.update_xaxes(type="log")
    return fig


def reconstructions(models: dict, x: torch.Tensor) -> dict[str, tuple[torch.Tensor, float]]:
    """The same images through each model: name -> (reconstructions (N, C, H, W), mean per-image error)."""
    out = {}
    for name, model in models.items():
        x_hat = reconstruct(model, x)
        out[name] = (x_hat, metrics.recon_sse(x_hat, x))
    return out


def checkpoint_paths(table: pd.DataFrame) -> dict[str, Path]:
    return {row.checkpoint: Path(row.path) for row in table.itertuples()}
