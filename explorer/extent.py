"""Where a page's controls over a map and over a code range: the map's bulk and each code unit's slider span."""

from __future__ import annotations

import numpy as np

from explorer.errors import ExplorerError

BULK_PERCENTILES = (1, 99)  # the whole map's grid covers these percentiles per axis, not the stragglers
SLIDER_MARGIN = 0.1  # a slider runs this share of the unit's span past its smallest and largest code


def map_extent(points: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """((x_lo, x_hi), (y_lo, y_hi)) of the bulk of 2-D map points (N, 2)."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or not len(points):
        raise ExplorerError(f"a map extent needs points of shape (N, 2), got {points.shape}")
    lo, hi = np.percentile(points, BULK_PERCENTILES, axis=0)
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def slider_ranges(codes: np.ndarray) -> np.ndarray:
    """(d, 2) low and high end of a slider per code unit: the codes' range widened by SLIDER_MARGIN of its
    span each side; a unit that never varies gets a span of 1, so its slider can still move."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or not len(codes):
        raise ExplorerError(f"slider ranges need codes of shape (N, d), got {codes.shape}")
    lo, hi = codes.min(0), codes.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.stack([lo - SLIDER_MARGIN * span, hi + SLIDER_MARGIN * span], axis=1)
