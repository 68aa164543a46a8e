"""Plotly figures of 2-D latent maps: WebGL scatter (responsive at 70,000 points), hover, selection, click grid.

Every point carries its dataset row id in customdata, because st.plotly_chart's point_index counts
within a trace. Under the data lies an invisible 60 x 60 grid of selectable points (customdata
GRID_ID), so a click on empty space still selects something (the nearest grid point) and its x, y
come back in the selection event: the route DESIGN.md reports working with Streamlit 1.67.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from explorer.selection import GRID_ID

GRID_N = 60
PALETTE = qualitative.D3 + qualitative.Set3  # 10 distinct class colours first


def extent(points: np.ndarray, pad: float = 0.05) -> tuple[tuple[float, float], tuple[float, float]]:
    """((x0, x1), (y0, y1)) covering the points with a margin of pad times the span."""
    lo, hi = np.min(points, 0).astype(float), np.max(points, 0).astype(float)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    return (lo[0], hi[0]), (lo[1], hi[1])


def grid_trace(x_range, y_range, n: int = GRID_N) -> go.Scattergl:
    """n x n invisible but selectable points over the map: a click on empty space selects the nearest one."""
    gx, gy = np.meshgrid(np.linspace(*x_range, n), np.linspace(*y_range, n))
    return go.Scattergl(
        x=gx.ravel(), y=gy.ravel(), mode="markers", name="click grid", showlegend=False,
        marker=dict(size=10, opacity=0, color="#888"), customdata=np.full(n * n, GRID_ID),
        hoverinfo="none",  # no label, but clicks and selections still fire ('skip' would disable them)
    )


def map_figure(points: np.ndarray, labels: np.ndarray | None = None, class_names: list[str] | None = None,
               color: np.ndarray | None = None, color_name: str = "label", ids: np.ndarray | None = None,
               highlight=None, clicked: tuple[float, float] | None = None, grid: bool = True,
               title: str = "", height: int = 520, marker_size: float | None = None) -> go.Figure:
    """A 2-D map of points (N, 2). Coloured by class (labels) or by a numeric factor (color)."""
    points = np.asarray(points, dtype=np.float32)
    n = len(points)
    ids = np.arange(n) if ids is None else np.asarray(ids)
    size = marker_size or (5 if n <= 10_000 else 3)
    names = np.array(class_names if class_names else [], dtype=object)
    label_text = names[labels] if labels is not None and len(names) else (
        labels.astype(str) if labels is not None else np.full(n, "-", dtype=object))
    hover = "index %{customdata}<br>label %{text}" + ("<br>" + color_name + " %{marker.color:.3g}" if color is not None else "") + "<extra></extra>"
    x_range, y_range = extent(points)
    fig = go.Figure()
    if grid:
        fig.add_trace(grid_trace(x_range, y_range))
    if color is None and labels is not None:  # one trace per class: a legend that toggles classes
        for k in np.unique(labels):
            m = labels == k
            name = str(names[k]) if len(names) > k else str(k)
            fig.add_trace(go.Scattergl(x=points[m, 0], y=points[m, 1], mode="markers", name=name, customdata=ids[m],
                                       text=label_text[m], hovertemplate=hover,
                                       marker=dict(size=size, color=PALETTE[int(k) % len(PALETTE)], opacity=0.8)))
    else:
        marker = dict(size=size, opacity=0.8, color="#1f77b4")
        if color is not None:
            marker.update(color=np.asarray(color, dtype=float), colorscale="Viridis", showscale=True,
                          colorbar=dict(title=color_name, thickness=12))
        fig.add_trace(go.Scattergl(x=points[:, 0], y=points[:, 1], mode="markers", name="images", customdata=ids,
                                   text=label_text, hovertemplate=hover, marker=marker, showlegend=False))
    if highlight is not None and len(highlight):
        h = np.asarray(highlight, dtype=int)
        fig.add_trace(go.Scattergl(x=points[h, 0], y=points[h, 1], mode="markers", name="selected", customdata=ids[h],
                                   text=label_text[h], hovertemplate=hover,
                                   marker=dict(size=size + 6, color="rgba(0,0,0,0)", line=dict(width=2, color="black"))))
    if clicked is not None:
        fig.add_trace(go.Scattergl(x=[clicked[0]], y=[clicked[1]], mode="markers", name="clicked",
                                   customdata=[GRID_ID], hoverinfo="none",
                                   marker=dict(size=16, symbol="x", color="crimson", line=dict(width=1, color="white"))))
    # the title sits at the top of the figure, the legend (which pushes the margin down) below it
    fig.update_layout(title=dict(text=title, y=0.99, yref="container", yanchor="top") if title else None,
                      height=height, margin=dict(l=10, r=10, t=50 if title else 10, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, itemsizing="constant"),
                      hovermode="closest", clickmode="event+select", uirevision="map",
                      xaxis=dict(range=list(x_range), showgrid=False, zeroline=False),
                      yaxis=dict(range=list(y_range), showgrid=False, zeroline=False))
    return fig


def tile_images(images, n_cols: int) -> np.ndarray:
    """Images (n, C, H, W) in [0, 1] -> one picture (rows * H, n_cols * W[, 3]), filled row by row."""
    arr = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    n, c, h, w = arr.shape
    rows = -(-n // n_cols)
    canvas = np.ones((rows * h, n_cols * w, c), dtype=np.float32)
    for i, img in enumerate(np.clip(arr, 0, 1)):
        r, col = divmod(i, n_cols)
        canvas[r * h:(r + 1) * h, col * w:(col + 1) * w] = img.transpose(1, 2, 0)
    return canvas[..., 0] if c == 1 else canvas


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so small digits stay crisp in the browser."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
