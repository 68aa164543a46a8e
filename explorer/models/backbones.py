"""Encoder and decoder networks shared by the families: fully connected and convolutional."""

from __future__ import annotations

from torch import nn

from explorer.errors import ExplorerError
from explorer.models.options import Option

# The option of the families that can take either network (sparse, denoising, vae); mlp-ae and conv-ae fix theirs.
BACKBONE = Option("backbone", str, "mlp", "encoder and decoder networks: fully connected or convolutional",
                  label="Backbone", choices=("mlp", "conv"))


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def dense(sizes: list[int]) -> nn.Module:
    """mlp(sizes), but a bare Linear for a single layer (the weight names older checkpoints carry)."""
    return mlp(sizes) if len(sizes) > 2 else nn.Linear(*sizes)


def mlp_pair(n_pixels: int, hidden: tuple[int, ...], out: int, dim: int):
    """Encoder n_pixels -> hidden... -> out and the mirrored decoder dim -> ...hidden -> n_pixels (logits)."""
    encoder = nn.Sequential(nn.Flatten(), mlp([n_pixels, *hidden, out]))
    decoder = mlp([dim, *reversed(hidden), n_pixels])
    return encoder, decoder


def conv_stages(h: int, w: int, max_stages: int) -> int:
    """How many stride-2 halvings the image takes while staying even and at least 4 pixels."""
    n = 0
    while n < max_stages and h % 2 == 0 and w % 2 == 0 and min(h, w) >= 8:
        h, w, n = h // 2, w // 2, n + 1
    return n


class Unflatten(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.view(len(x), *self.shape)


def conv_pair(image_shape: tuple[int, int, int], channels: tuple[int, ...], out: int, dim: int,
              fc: tuple[int, ...] = ()):
    """Strided convolutions down to a small feature map, then linear layers (widths fc) to the code;
    linear layers and transposed convolutions back up (decoder returns logits)."""
    c, h, w = image_shape
    n = conv_stages(h, w, len(channels))
    if n == 0:
        raise ExplorerError(f"the conv backbone needs even image sides of at least 8, got {h} x {w}; "
                            "use the mlp backbone")
    widths = list(channels[:n])
    down, ch = [], c
    for width in widths:
        down += [nn.Conv2d(ch, width, 4, 2, 1), nn.ReLU()]  # halves H and W
        ch = width
    fh, fw = h >> n, w >> n
    feat = ch * fh * fw
    encoder = nn.Sequential(*down, nn.Flatten(), dense([feat, *fc, out]))
    up = [dense([dim, *reversed(fc), feat]), nn.ReLU(), Unflatten((ch, fh, fw))]
    outs = [*reversed(widths[:-1]), c]
    for i, (a, b) in enumerate(zip(reversed(widths), outs)):
        up.append(nn.ConvTranspose2d(a, b, 4, 2, 1))  # doubles H and W
        if i < len(outs) - 1:
            up.append(nn.ReLU())
    return encoder, nn.Sequential(*up)


def make_pair(config, out: int):
    """Encoder (image -> out features) and decoder (code -> logits image) for config.backbone (mlp if none)."""
    if config.backbone == "conv":
        return conv_pair(config.image_shape, config.channels, out, config.dim, config.conv_fc)
    encoder, decoder = mlp_pair(config.n_pixels, config.hidden, out, config.dim)
    return encoder, nn.Sequential(decoder, Unflatten(config.image_shape))
