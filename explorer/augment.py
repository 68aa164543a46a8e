"""Mirror-image augmentation, used only where the data look the same in a mirror.

On a few thousand images a deep autoencoder memorises its training set; random horizontal flips double
what it sees and narrow the gap to held-out error. But a mirrored digit is not a digit, so the flips are
switched on by a test on the data themselves: PCA fitted on the training images must reconstruct mirrored
validation images as well as the originals (photographs and shapes pass; digits and glyphs fail).
"""

from __future__ import annotations

import torch

MIRROR_TOLERANCE = 1.05  # mirrored images may be at most this much harder for PCA
TEST_DIM = 16  # PCA code size of the test
SAMPLE = 5000  # images used on each side


def looks_alike_in_a_mirror(x_fit: torch.Tensor, x_val: torch.Tensor) -> bool:
    """Whether PCA of x_fit reconstructs mirrored x_val within MIRROR_TOLERANCE of x_val itself."""
    from explorer.datasets.images import to_float
    from explorer.models import ModelConfig, build_model

    x_fit, x_val = to_float(x_fit[:SAMPLE]), to_float(x_val[:SAMPLE])
    dim = min(TEST_DIM, len(x_fit) - 1, x_fit[0].numel())
    if dim < 1 or len(x_val) == 0:
        return False
    pca = build_model(ModelConfig("pca", tuple(x_fit.shape[1:]), dim)).fit(x_fit)

    def error(x):
        return float((pca.decode(pca.encode(x)) - x).pow(2).sum())

    return error(x_val.flip(-1)) <= MIRROR_TOLERANCE * error(x_val)


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image of the batch mirrored left-right with probability 1/2."""
    flip = (torch.rand(len(x), generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)
