"""Image folders of several kinds, generated offline, for checking that defaults hold beyond mnist5k.

Each writer makes a labelled folder of PNG files (one sub-folder per class), the shape a user's own
images arrive in:
- glyphs: the digits 0-9 drawn in the machine's fonts at random sizes, positions and angles (near-binary);
- shapes: ten filled shapes in random grey levels on random grey backgrounds, blurred (smooth grayscale);
- photos: colour crops of the photographs bundled in scikit-image, one class per photograph.
And at any size, as one array: warped copies of mnist5k's digits (write_warped_digits), for maps, indexes
and pages at a hundred thousand to a million images.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "C:/Windows/Fonts")
PHOTOS = ("astronaut", "chelsea", "coffee", "hubble_deep_field", "immunohistochemistry", "retina", "rocket",
          "stereo_motorcycle")
SHAPES = ("circle", "square", "triangle", "diamond", "cross", "ring", "star", "bar", "pentagon", "arrow")


def font_files() -> list[Path]:
    """Every TrueType font on the machine, sorted (the glyph set's variety comes from them)."""
    found = sorted({p for d in FONT_DIRS if Path(d).is_dir() for p in Path(d).rglob("*.ttf")})
    return [p for p in found if "Math" not in p.name]  # math fonts lack ordinary digits


def _save(img: Image.Image, folder: Path, label: str, i: int) -> None:
    out = folder / label
    out.mkdir(parents=True, exist_ok=True)
    img.save(out / f"{i:06d}.png")


def write_glyphs(folder, n: int = 2000, size: int = 28, seed: int = 0) -> Path:
    """n images of the digits 0-9 in random fonts, sizes, offsets and rotations, white on black."""
    rng = np.random.default_rng(seed)
    fonts = font_files()
    if not fonts:
        raise RuntimeError("no .ttf fonts found on this machine; install fonts-dejavu")
    folder = Path(folder)
    big = 4 * size  # draw large, rotate, then shrink: smooth anti-aliased strokes
    for i in range(n):
        digit = int(rng.integers(10))
        font = ImageFont.truetype(str(fonts[rng.integers(len(fonts))]), int(big * rng.uniform(0.55, 0.85)))
        img = Image.new("L", (big, big), 0)
        draw = ImageDraw.Draw(img)
        left, top, right, bottom = draw.textbbox((0, 0), str(digit), font=font)
        dx, dy = rng.uniform(-0.12, 0.12, 2) * big
        draw.text(((big - right - left) / 2 + dx, (big - bottom - top) / 2 + dy), str(digit), fill=255, font=font)
        img = img.rotate(float(rng.uniform(-20, 20)), resample=Image.BILINEAR)
        _save(img.resize((size, size), Image.LANCZOS), folder, str(digit), i)
    return folder


def _shape_points(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    """Polygon vertices of a shape centred at (cx, cy) with radius r, rotated by angle (radians)."""
    def ring(k, radius, offset=0.0):
        return [(radius * math.cos(offset + 2 * math.pi * j / k), radius * math.sin(offset + 2 * math.pi * j / k))
                for j in range(k)]

    unit = {
        "square": ring(4, 1, math.pi / 4), "triangle": ring(3, 1), "diamond": [(1, 0), (0, 0.6), (-1, 0), (0, -0.6)],
        "pentagon": ring(5, 1), "bar": [(1, 0.3), (-1, 0.3), (-1, -0.3), (1, -0.3)],
        "star": [p for a, b in zip(ring(5, 1), ring(5, 0.4, math.pi / 5)) for p in (a, b)],
        "cross": [(0.3, 1), (-0.3, 1), (-0.3, 0.3), (-1, 0.3), (-1, -0.3), (-0.3, -0.3), (-0.3, -1), (0.3, -1),
                  (0.3, -0.3), (1, -0.3), (1, 0.3), (0.3, 0.3)],
        "arrow": [(1, 0), (0.2, 0.7), (0.2, 0.3), (-1, 0.3), (-1, -0.3), (0.2, -0.3), (0.2, -0.7)],
    }[kind]
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in unit]


def write_shapes(folder, n: int = 2000, size: int = 28, seed: int = 0) -> Path:
    """n images of ten filled shapes: random grey fill on a random grey background, softly blurred."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    big = 4 * size
    for i in range(n):
        kind = SHAPES[rng.integers(len(SHAPES))]
        back, fill = rng.uniform(0, 110), rng.uniform(140, 255)
        if rng.random() < 0.5:  # dark shapes on light backgrounds too
            back, fill = 255 - back, 255 - fill
        img = Image.new("L", (big, big), int(back))
        draw = ImageDraw.Draw(img)
        r = big * rng.uniform(0.22, 0.38)
        cx, cy = big / 2 + rng.uniform(-0.15, 0.15, 2) * big
        if kind in ("circle", "ring"):
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=int(fill))
            if kind == "ring":
                draw.ellipse([cx - r / 2, cy - r / 2, cx + r / 2, cy + r / 2], fill=int(back))
        else:
            draw.polygon(_shape_points(kind, cx, cy, r, rng.uniform(0, 2 * math.pi)), fill=int(fill))
        img = img.filter(ImageFilter.GaussianBlur(big * 0.02))
        _save(img.resize((size, size), Image.LANCZOS), folder, kind, i)
    return folder


def load_photos() -> dict[str, np.ndarray]:
    """The colour photographs bundled with scikit-image (no download), as H x W x 3 uint8."""
    import skimage.data

    out = {}
    for name in PHOTOS:
        img = getattr(skimage.data, name)()
        out[name] = (img[0] if isinstance(img, tuple) else img)[..., :3]
    return out


def write_photos(folder, n: int = 2000, size: int = 32, seed: int = 0) -> Path:
    """n colour crops (random position, scale from 1/8 to 1/2 of the shorter side, random flips)."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    photos = load_photos()
    names = list(photos)
    for i in range(n):
        name = names[rng.integers(len(names))]
        img = photos[name]
        h, w = img.shape[:2]
        side = int(min(h, w) * rng.uniform(1 / 8, 1 / 2))
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        crop = Image.fromarray(img[y : y + side, x : x + side]).resize((size, size), Image.BILINEAR)
        if rng.random() < 0.5:
            crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        _save(crop, folder, name, i)
    return folder


WRITERS = {"glyphs": write_glyphs, "shapes": write_shapes, "photos": write_photos}
COLOR = {"glyphs": "gray", "shapes": "gray", "photos": "rgb"}  # how each kind is meant to be loaded


def write_folder(kind: str, folder, n: int = 2000, size: int | None = None, seed: int = 0) -> Path:
    """Write a generated folder of the given kind (glyphs and shapes 28 x 28, photos 32 x 32 by default)."""
    size = size or (32 if kind == "photos" else 28)
    return WRITERS[kind](folder, n=n, size=size, seed=seed)


WARP_BATCH = 10_000  # images warped at a time: generating a million never holds more than one batch as floats


def warp(source: torch.Tensor, idx: np.ndarray, seed: int) -> np.ndarray:
    """source[idx] (uint8 (n, 1, 28, 28)), each image rotated, scaled and shifted at random -> (n, 28, 28)."""
    g = torch.Generator().manual_seed(seed)
    x = source[torch.from_numpy(idx)].float()
    n = len(x)
    angle = (torch.rand(n, generator=g) * 2 - 1) * math.radians(15)
    scale = 0.9 + 0.2 * torch.rand(n, generator=g)
    shift = (torch.rand(n, 2, generator=g) * 2 - 1) * (3 / 14)  # grid units: the image spans 2, i.e. 14 px per unit
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale  # affine_grid maps output -> input: divide
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False).round().clamp(0, 255).to(torch.uint8)[:, 0].numpy()


def warped_batches(source: torch.Tensor, labels: np.ndarray | None, n: int, seed: int = 0):
    """(start, stop, images uint8 (b, 28, 28), labels (b,)) batches of n warped copies of source (uint8
    (m, 1, 28, 28)): the copies cycle through source in a seeded order (mnist5k is sorted by digit, so
    every prefix gets every class), each with its own rotation, scale and shift."""
    order = np.random.default_rng(seed).permutation(len(source))
    for start in range(0, n, WARP_BATCH):
        stop = min(start + WARP_BATCH, n)
        picks = order[np.arange(start, stop) % len(source)]
        yield start, stop, warp(source, picks, seed=seed + start), None if labels is None else labels[picks]


def write_warped_digits(path: str | Path, n: int, seed: int = 0) -> Path:
    """An .npz (x: uint8 (n, 28, 28), y: labels) of n MNIST-like digits, each a warped copy of one of
    mnist5k's 5,000: a large labelled set of real-looking digits, none two alike. Written atomically."""
    from explorer.atomic import atomic_write_file
    from explorer.datasets import load_dataset

    mnist = load_dataset("mnist5k")
    x, y = np.empty((n, 28, 28), np.uint8), np.empty(n, np.int64)
    for start, stop, images, labels in warped_batches(mnist.pixels, mnist.labels, n, seed):
        x[start:stop], y[start:stop] = images, labels
    return atomic_write_file(Path(path), lambda f: np.savez(f, x=x, y=y))
