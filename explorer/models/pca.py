"""PCA as the baseline behind the autoencoder interface (PCA = a linear autoencoder), fitted in batches.

Up to EXACT_MAX_PIXELS pixels per image the covariance matrix is accumulated in float64 over the stored
images and diagonalised: exact PCA, as scikit-learn's full SVD gives it, in one pass and memory D x D.
Beyond, randomized subspace iteration on the same covariance (Halko, Martinsson & Tropp 2011), each pass
streamed over the data: memory D x (d + 10), a pass for the mean and a few more.
Sums are taken around the first batch's mean, so float64 keeps its digits on any pixel scale.
"""

from __future__ import annotations

import torch

from explorer.datasets.images import Images, as_images
from explorer.models.base import Autoencoder, ModelConfig, register

EXACT_MAX_PIXELS = 4096  # a 4096 x 4096 float64 covariance is 128 MB and diagonalises in seconds
OVERSAMPLE, POWER_ITERATIONS = 10, 4


def _flat(xb: torch.Tensor) -> torch.Tensor:
    return xb.flatten(1).double()


def _moments(x: Images, batch_size: int, covariance: bool) -> tuple[torch.Tensor, float, torch.Tensor | None]:
    """The pixel mean (D,), the total variance (trace of the covariance, biased) and, if asked, the covariance
    (D, D), in one pass."""
    shift, total, sq, scatter = None, 0.0, 0.0, 0.0
    for xb in x.batches(batch_size):
        xb = _flat(xb)
        shift = xb.mean(0) if shift is None else shift
        centred = xb - shift
        total = total + centred.sum(0)
        sq += float(centred.pow(2).sum())
        if covariance:
            scatter = scatter + centred.T @ centred
    n = len(x)
    delta = total / n
    cov = scatter / n - torch.outer(delta, delta) if covariance else None
    return shift + delta, sq / n - float(delta.pow(2).sum()), cov


def _exact(cov: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The top-k variances and components of the covariance."""
    var, vecs = torch.linalg.eigh(cov)  # ascending
    return var.flip(0)[:k].clamp_min(0), vecs.flip(1)[:, :k].T


def _randomized(x: Images, mean: torch.Tensor, k: int, batch_size: int):
    gen = torch.Generator().manual_seed(0)
    q = torch.linalg.qr(torch.randn(len(mean), k + OVERSAMPLE, generator=gen, dtype=torch.float64))[0]
    for _ in range(POWER_ITERATIONS):  # q <- orth(C q): converges to the top eigenvectors of C
        cq = torch.zeros_like(q)
        for xb in x.batches(batch_size):
            c = _flat(xb) - mean
            cq.addmm_(c.T, c @ q)
        q = torch.linalg.qr(cq)[0]
    small = torch.zeros(q.shape[1], q.shape[1], dtype=torch.float64)  # q' C q, diagonalised exactly
    for xb in x.batches(batch_size):
        p = (_flat(xb) - mean) @ q
        small.addmm_(p.T, p)
    var, vecs = torch.linalg.eigh(small / len(x))
    return var.flip(0)[:k].clamp_min(0), (q @ vecs.flip(1)[:, :k]).T


def _sign_fixed(comps: torch.Tensor) -> torch.Tensor:
    """Each component's largest loading made positive, scikit-learn's convention: the same data give the
    same signs, and so the same maps."""
    signs = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True)))
    return comps * signs


@register("pca")
class PCAModel(Autoencoder):
    order = 0
    baseline = True
    is_trainable = False

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        D, d = config.n_pixels, config.dim
        self.register_buffer("mean_", torch.zeros(D))
        self.register_buffer("components_", torch.zeros(d, D))  # (d, D), orthonormal rows
        self.register_buffer("explained_variance_", torch.zeros(d))
        self.register_buffer("explained_variance_ratio_", torch.zeros(d))

    def fit(self, x: torch.Tensor | Images, batch_size: int = 4096) -> PCAModel:
        """Fit on x in batches: memory is one batch plus D x D (exact) or D x (d + 10) (randomized)."""
        x = as_images(x)
        n, D = len(x), self.config.n_pixels
        k = min(self.dim, n, D)  # d may exceed what the data allows; extra rows stay zero
        exact = D <= EXACT_MAX_PIXELS
        mean, total_var, cov = _moments(x, batch_size, covariance=exact)
        var, comps = _exact(cov, k) if exact else _randomized(x, mean, k, batch_size)
        var = var * n / max(n - 1, 1)  # unbiased, as scikit-learn reports it
        self.mean_.copy_(mean.float())
        self.components_[:k] = _sign_fixed(comps).float()
        self.explained_variance_[:k] = var.float()
        self.explained_variance_ratio_[:k] = (var / (total_var * n / max(n - 1, 1))).float()
        return self

    def encode(self, x):  # (B, C, H, W) -> (B, d)
        return (x.flatten(1) - self.mean_) @ self.components_.T

    def decode(self, z):  # (B, d) -> (B, C, H, W); exact inverse on the principal subspace
        return (z @ self.components_ + self.mean_).view(len(z), *self.config.image_shape)
