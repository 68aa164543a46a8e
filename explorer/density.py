"""A density picture of many 2-D points: aggregated into pixels on the server, shaded, sent as one PNG.

What datashader does (`Canvas.points`, `count_cat`, `tf.shade` with histogram equalisation), in numpy:
a million points aggregate in tens of milliseconds, and the browser receives one small image instead of
a million JSON points. Colour is the count-weighted mix of the class colours in each pixel (or the mean
of a numeric value, on Viridis or a diverging scale); opacity is the pixel's count, histogram-equalised so
that sparse regions stay visible next to dense ones.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

MIN_ALPHA = 0.25  # the faintest non-empty pixel is still visible
VIRIDIS = np.array([[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137],
                    [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]], dtype=np.float64)
# blue below the middle, red above (ColorBrewer RdYlBu, reversed, without its palest stops): a muted yellow, not
# white, in the middle, so that values near it stay visible on the white map
DIVERGING = np.array([[49, 54, 149], [69, 117, 180], [116, 173, 209], [230, 220, 140], [244, 109, 67],
                      [215, 48, 39], [165, 0, 38]], dtype=np.float64)
SCALES = {"viridis": VIRIDIS, "diverging": DIVERGING}
NO_VALUE = (150, 150, 150)  # pixels whose points carry no value (NaN: e.g. outside a measured sample) ...
NO_VALUE_ALPHA = 0.35  # ... drawn faint grey, so the measured ones stand out


def pixel_of(points: np.ndarray, x_range, y_range, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat pixel index (row 0 at the top, i.e. the largest y) of each point inside the view, and which points are."""
    (x0, x1), (y0, y1) = x_range, y_range
    x, y = points[:, 0], points[:, 1]
    inside = (x >= x0) & (x < x1) & (y > y0) & (y <= y1)
    col = ((x[inside] - x0) * (width / (x1 - x0))).astype(np.int64)  # non-negative inside: truncation is floor
    row = ((y1 - y[inside]) * (height / (y1 - y0))).astype(np.int64)
    np.minimum(col, width - 1, out=col)  # float rounding at the far edges
    np.minimum(row, height - 1, out=row)
    return row * width + col, inside


def equalised(counts: np.ndarray) -> np.ndarray:
    """Each pixel's rank among the non-empty pixels' counts, in (0, 1]; 0 where empty (histogram equalisation)."""
    out = np.zeros(counts.shape, dtype=np.float64)
    filled = counts > 0
    if filled.any():
        values, inverse = np.unique(counts[filled], return_inverse=True)
        cdf = np.cumsum(np.bincount(inverse, minlength=len(values))) / filled.sum()
        out[filled] = cdf[inverse]
    return out


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """'#1f77b4' or 'rgb(31,119,180)' -> (31, 119, 180)."""
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return tuple(int(float(v)) for v in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])


def render(points: np.ndarray, x_range, y_range, width: int, height: int, classes: np.ndarray | None = None,
           palette: list[str] | None = None, values: np.ndarray | None = None, value_range=None,
           opacity: float = 1.0, scale: str = "viridis") -> np.ndarray:
    """RGBA image (height, width, 4) uint8 of the points inside the view.

    classes (N,) int with palette: colour by class. values (N,) float with value_range (lo, hi): colour by the
    mean of the pixel's values on SCALES[scale], clipped to the range; NaN values are left out of the mean, and a
    pixel with none but NaN is faint grey. Neither: one blue. opacity scales the whole layer (1 = opaque).
    """
    points = np.asarray(points, dtype=np.float32)
    pix, inside = pixel_of(points, x_range, y_range, width, height)
    n_pix = width * height
    counts = np.bincount(pix, minlength=n_pix).astype(np.float64)
    filled = counts > 0
    unknown = np.zeros(n_pix, bool)  # pixels with points but no value among them
    if classes is not None:
        cls = np.asarray(classes)[inside].astype(np.int64)
        colours = np.array([hex_rgb(palette[k % len(palette)]) for k in range(int(cls.max(initial=0)) + 1)], float)
        per_class = np.bincount(cls * n_pix + pix, minlength=len(colours) * n_pix).reshape(len(colours), n_pix)
        rgb = per_class.T @ colours / np.maximum(counts, 1)[:, None]  # (n_pix, 3) count-weighted mix
    elif values is not None:
        values = np.asarray(values, np.float64)
        inside_values = values[inside]
        lo, hi = value_range if value_range is not None else (float(np.nanmin(values)), float(np.nanmax(values)))
        known = np.isfinite(inside_values)
        n_known = np.bincount(pix[known], minlength=n_pix)
        mean = np.bincount(pix[known], weights=inside_values[known], minlength=n_pix) / np.maximum(n_known, 1)
        stops = SCALES[scale]
        t = np.clip((mean - lo) / ((hi - lo) or 1.0), 0, 1) * (len(stops) - 1)
        rgb = np.stack([np.interp(t, np.arange(len(stops)), stops[:, c]) for c in range(3)], axis=1)
        unknown = filled & (n_known == 0)
        rgb[unknown] = NO_VALUE
    else:
        rgb = np.tile(np.array(hex_rgb("#1f77b4"), float), (n_pix, 1))
    alpha = np.where(filled, MIN_ALPHA + (1 - MIN_ALPHA) * equalised(counts), 0.0) * opacity
    alpha[unknown] *= NO_VALUE_ALPHA
    image = np.concatenate([rgb, 255 * alpha[:, None]], axis=1)
    return np.round(image).clip(0, 255).astype(np.uint8).reshape(height, width, 4)


def over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Alpha-composite two RGBA uint8 images (Porter-Duff 'over')."""
    a, b = top.astype(np.float64) / 255, bottom.astype(np.float64) / 255
    alpha = a[..., 3:] + b[..., 3:] * (1 - a[..., 3:])
    rgb = (a[..., :3] * a[..., 3:] + b[..., :3] * b[..., 3:] * (1 - a[..., 3:])) / np.maximum(alpha, 1e-9)
    return np.round(255 * np.concatenate([rgb, alpha], axis=-1)).astype(np.uint8)


def faded(image: np.ndarray, opacity: float) -> np.ndarray:
    """The same picture with its opacity scaled."""
    out = image.copy()
    out[..., 3] = np.round(out[..., 3] * opacity).astype(np.uint8)
    return out


def png_data_uri(image: np.ndarray) -> str:
    """An RGBA uint8 image as a data: URI, the form a plotly layout image takes.

    Reduced to a palette of 256 colours first: a million points' picture drops from about 480 KB to 130 KB
    (and encodes in 10 ms instead of 170), which the browser parses and draws on every rerun."""
    buf = io.BytesIO()
    Image.fromarray(image, "RGBA").quantize(256, method=Image.Quantize.FASTOCTREE).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
