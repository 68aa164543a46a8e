"""Turn a user's picture (an uploaded file or a canvas drawing) into one image shaped like the dataset's.

What "like the data" means is measured from the data itself (`data_style`), not assumed:
- background: MNIST-like sets have a consistent dark border (white digit on black), a document photo or a
  canvas drawing usually has a light one. When the dataset's border is consistent and the picture's is the
  opposite, the picture is inverted.
- ink extent: MNIST digits were cropped to their ink, scaled so the long side is 20 of 28 pixels and centred
  by centre of mass. A picture of a digit is treated the same way (crop to the ink, scale to the dataset's
  median ink extent, centre by mass), so a photo of a large off-centre digit lands where the data's digits are.
  A photo-like dataset (no consistent border, e.g. CIFAR-10) is only padded to square and resized.
Every conversion is described in `QueryImage.notes`, for the page to tell the user.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import torch

from explorer.errors import ExplorerError

WORK_SIZE = 512  # large pictures are shrunk to this long side first; more detail is thrown away anyway
INK_CONTRAST = 0.25  # a pixel is ink when it differs from the background by this much (of the picture's range)
BLANK = 0.05  # a picture whose values span less than this is blank


@dataclass(frozen=True)
class DataStyle:
    """What the dataset's images look like: shape, a consistent background (or None), and ink extent."""

    channels: int
    height: int
    width: int
    background: float | None  # 0.0 dark, 1.0 light, None when borders vary (photos)
    ink_extent: float  # median (long side of the ink's bounding box) / (image side)
    ink_center: tuple[float, float]  # median (row, column) of the ink's centre of mass


@dataclass
class QueryImage:
    image: torch.Tensor  # (C, H, W) float32 in [0, 1], the dataset's shape
    notes: list[str] = field(default_factory=list)  # what was converted, one sentence each


def _gray(arr: np.ndarray) -> np.ndarray:
    """(..., H, W, C) -> (..., H, W) luminance (ITU-R 601, as PIL's "L")."""
    return arr[..., 0] if arr.shape[-1] == 1 else arr[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)


def _border(gray: np.ndarray) -> np.ndarray:
    """The outer ring of pixels of (..., H, W)."""
    return np.concatenate([gray[..., 0, :], gray[..., -1, :], gray[..., :, 0], gray[..., :, -1]], axis=-1)


def data_style(images: torch.Tensor, sample: int = 1000) -> DataStyle:
    """Measure the background and ink extent of (N, C, H, W) images in [0, 1] on up to `sample` of them."""
    n, c, h, w = images.shape
    picks = np.linspace(0, n - 1, min(n, sample)).astype(int)
    gray = _gray(images[picks].numpy().transpose(0, 2, 3, 1))  # (S, H, W)
    border = np.median(_border(gray), axis=1)  # (S,) each image's typical border value
    background = None
    if (border < 0.2).mean() >= 0.9:
        background = 0.0
    elif (border > 0.8).mean() >= 0.9:
        background = 1.0
    extents, centers = [1.0], [((h - 1) / 2, (w - 1) / 2)]  # the defaults when there is no consistent ink
    if background is not None:
        extents, centers = [], []
        for g in np.abs(gray - background):  # (H, W) ink
            ys, xs = np.nonzero(g > INK_CONTRAST)
            if len(ys):
                extents.append(max(np.ptp(ys) + 1, np.ptp(xs) + 1) / max(h, w))
                centers.append(_center_of_mass(g))
    cy, cx = np.median(centers, axis=0)
    return DataStyle(c, h, w, background, float(np.median(extents)), (float(cy), float(cx)))


def _center_of_mass(mass: np.ndarray) -> tuple[float, float]:
    """(row, column) centre of mass of a non-negative (H, W) array."""
    total = float(mass.sum()) or 1.0
    return float(mass.sum(1) @ np.arange(mass.shape[0])) / total, float(mass.sum(0) @ np.arange(mass.shape[1])) / total


# ---- entry points ------------------------------------------------------------------------------

def from_upload(data: bytes, style: DataStyle, name: str = "upload", center: bool = True) -> QueryImage:
    """An uploaded image file's bytes -> the dataset's shape. Raises ExplorerError on a bad file."""
    from PIL import Image

    if not data:
        raise ExplorerError(f"{name}: the file is empty; upload a PNG or JPEG image")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (WORK_SIZE, WORK_SIZE))  # JPEG: decode at reduced size, much faster
            img.load()
            size = img.size
            img.thumbnail((WORK_SIZE, WORK_SIZE))
            rgba = np.asarray(img.convert("RGBA"), np.float32) / 255.0  # (H, W, 4)
            colour = img.mode not in ("1", "L", "LA", "I", "I;16", "F") and not _is_gray(rgba)
    except Exception as exc:  # PIL raises many kinds (UnidentifiedImageError, OSError, DecompressionBombError)
        raise ExplorerError(f"{name}: not a readable image ({type(exc).__name__}); upload a PNG or JPEG file") from None
    return _to_dataset(rgba, size, colour, style, name, center)


def from_canvas(rgba, style: DataStyle) -> QueryImage:
    """A drawing, RGBA (H, W, 4) uint8 as streamlit-drawable-canvas returns it -> the dataset's shape."""
    if rgba is None:
        raise ExplorerError("The canvas is empty: draw something on it first")
    arr = np.asarray(rgba)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or min(arr.shape[:2]) < 2:
        raise ExplorerError(f"canvas: expected an RGBA image (H, W, 4), got shape {arr.shape}")
    rgba = arr.astype(np.float32) / (255.0 if arr.dtype == np.uint8 else 1.0)
    if rgba.shape[2] == 3:
        rgba = np.concatenate([rgba, np.ones_like(rgba[..., :1])], axis=2)
    if rgba[..., 3].max() == 0:
        raise ExplorerError("The canvas is empty: draw something on it first")
    query = _to_dataset(rgba, rgba.shape[1::-1], not _is_gray(rgba), style, "canvas", center=True,
                        blank_message="The canvas is empty: draw something on it first")
    query.notes = [n for n in query.notes if not n.startswith("Resized")]  # the canvas size is ours, not news
    return query


# ---- the conversion ----------------------------------------------------------------------------

def _is_gray(rgba: np.ndarray) -> bool:
    return bool(np.abs(rgba[..., :3] - rgba[..., :1]).max() < 2 / 255)


def _flatten_alpha(rgba: np.ndarray, fill: float) -> np.ndarray:
    """Composite transparent pixels onto `fill`, or onto its opposite when the strokes are that same colour."""
    rgb, alpha = rgba[..., :3], rgba[..., 3:]
    if alpha.min() > 0.98:
        return rgb
    drawn = alpha[..., 0] > 0.5
    if drawn.any() and abs(float(_gray(rgb)[drawn].mean()) - fill) < 0.2:
        fill = 1.0 - fill  # e.g. black strokes on a transparent canvas for a black-background dataset
    return rgb * alpha + fill * (1.0 - alpha)


def _to_dataset(rgba, size, colour: bool, style: DataStyle, name: str, center: bool,
                blank_message: str | None = None) -> QueryImage:
    notes = []
    bg = 1.0 if style.background is None else style.background
    arr = _flatten_alpha(rgba, bg)  # (H, W, 3)
    if style.channels == 1:
        arr = _gray(arr)[..., None]  # (H, W, 1)
        if colour:
            notes.append("Converted the colour image to grayscale, as the dataset is grayscale.")
    elif not colour:
        notes.append("The image is grayscale; the dataset is in colour, so all three channels are equal.")
    if float(arr.max() - arr.min()) < BLANK:
        raise ExplorerError(
            blank_message or f"{name}: the image is blank (one flat colour); upload a picture of something")

    if style.background is not None:
        own_bg = float(np.median(_border(_gray(arr))))
        if abs(own_bg - style.background) > 0.5:
            arr = 1.0 - arr
            kind = "dark" if style.background == 0 else "light"
            notes.append(f"Inverted the image: its background is {'light' if kind == 'dark' else 'dark'}, "
                         f"the dataset's is {kind}.")
    if center and style.background is not None:
        out = _crop_and_center(arr, style)
        notes.append("Cropped to the drawing, scaled and centred by its centre of mass, as the dataset's images are.")
    else:
        out = _resize(_pad_square(arr), style.height, style.width)
    if tuple(size) != (style.width, style.height):
        notes.append(f"Resized from {size[0]}×{size[1]} to {style.width}×{style.height} pixels.")
    image = torch.from_numpy(np.clip(out, 0, 1).transpose(2, 0, 1).copy()).float()
    return QueryImage(image.expand(style.channels, -1, -1).contiguous(), notes)


def _pad_square(arr: np.ndarray) -> np.ndarray:
    """Pad (H, W, C) to a square with its own border colour, so resizing keeps the aspect ratio."""
    h, w, _ = arr.shape
    if h == w:
        return arr
    fill = np.median(arr.reshape(-1, arr.shape[2])[_border(np.arange(h * w).reshape(h, w))], axis=0)
    side = max(h, w)
    out = np.broadcast_to(fill, (side, side, arr.shape[2])).copy()
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = arr
    return out


def _resize(arr: np.ndarray, h: int, w: int) -> np.ndarray:
    """(H, W, C) float -> (h, w, C) with PIL's antialiased Lanczos filter, per channel."""
    from PIL import Image

    if arr.shape[:2] == (h, w):
        return arr
    planes = (Image.fromarray(np.ascontiguousarray(arr[..., c], dtype=np.float32)) for c in range(arr.shape[2]))
    chans = [np.asarray(plane.resize((w, h), Image.LANCZOS)) for plane in planes]
    return np.stack(chans, axis=2)


def _crop_and_center(arr: np.ndarray, style: DataStyle) -> np.ndarray:
    """MNIST's own recipe: crop to the ink, scale its long side to the data's ink extent, centre by mass."""
    ink = np.abs(arr - style.background)  # (H, W, C) 0 on the background
    ink_gray = ink.mean(axis=2)
    ys, xs = np.nonzero(ink_gray > INK_CONTRAST * ink_gray.max())
    crop = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    crop = crop / max(float(crop.max()), 1e-6)  # strokes as bright as the data's (a pencil photo is grey)
    side = max(1, round(style.ink_extent * max(style.height, style.width)))
    h, w = crop.shape[:2]
    scale = side / max(h, w)
    patch = np.clip(_resize(crop, max(1, round(h * scale)), max(1, round(w * scale))), 0, 1)  # (ph, pw, C)
    # paste so the patch's centre of mass lands where the data's ink centres are
    cy, cx = _center_of_mass(patch.mean(axis=2))
    top, left = round(style.ink_center[0] - cy), round(style.ink_center[1] - cx)
    out = np.zeros((style.height, style.width, arr.shape[2]), np.float32)
    ph, pw = patch.shape[:2]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + ph, style.height), min(left + pw, style.width)
    out[y0:y1, x0:x1] = patch[y0 - top : y1 - top, x0 - left : x1 - left]
    return out if style.background == 0 else 1.0 - out
