"""Plotly figures of 2-D latent maps: WebGL scatter (responsive at 70,000 points), hover, selection, click grid;
above DENSITY_ABOVE points in view, one density image instead (explorer.density), never a million JSON points.

Every point carries its dataset row id in customdata, because st.plotly_chart's point_index counts
within a trace. Under the data lies an invisible 60 x 60 grid of selectable points (customdata
GRID_ID), so a click on empty space still selects something (the nearest grid point) and its x, y
come back in the selection event (checked with Streamlit 1.67 in headless Chromium by tests/e2e/test_latent_map.py).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from explorer import density
from explorer.selection import GRID_ID

GRID_N = 60
DENSITY_ABOVE = 50_000  # more points than this in view: a density picture instead of markers
DENSITY_PIXELS = (640, 480)  # the density image's width, height; the browser stretches it over the axes
DENSITY_GRID_N = 100  # a finer click grid on density maps, where it is the only thing to click
HIGHLIGHT_MARKERS = 100  # a selection this small is also ringed on a density map, where its pixels could hide
PALETTE = qualitative.D3 + qualitative.Set3  # 10 distinct class colours first
NO_VALUE_COLOUR = "rgb(150,150,150)"  # images without a value (NaN), e.g. outside a measured sample


def plotly_scale(scale: str):
    """A plotly colorscale for density.SCALES[scale]: the markers and the density picture use the same colours."""
    if scale == "viridis":
        return "Viridis"
    stops = density.SCALES[scale]
    return [[i / (len(stops) - 1), "rgb({},{},{})".format(*map(int, c))] for i, c in enumerate(stops)]


def extent(points: np.ndarray, pad: float = 0.05) -> tuple[tuple[float, float], tuple[float, float]]:
    """((x0, x1), (y0, y1)) covering the points with a margin of pad times the span."""
    # column by column: numpy reduces an (N, 2) array along axis 0 many times slower
    lo = np.array([points[:, 0].min(), points[:, 1].min()], dtype=float)
    hi = np.array([points[:, 0].max(), points[:, 1].max()], dtype=float)
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


def clicked_trace(clicked: tuple[float, float]) -> go.Scattergl:
    """A cross at the clicked spot."""
    return go.Scattergl(x=[clicked[0]], y=[clicked[1]], mode="markers", name="clicked", customdata=[GRID_ID],
                        hoverinfo="none",
                        marker=dict(size=16, symbol="x", color="crimson", line=dict(width=1, color="white")))


def map_figure(points: np.ndarray, labels: np.ndarray | None = None, class_names: list[str] | None = None,
               color: np.ndarray | None = None, color_name: str = "label", ids: np.ndarray | None = None,
               highlight=None, clicked: tuple[float, float] | None = None, grid: bool = True,
               title: str = "", height: int = 520, marker_size: float | None = None, ranges=None,
               color_scale: str = "viridis", color_range: tuple[float, float] | None = None) -> go.Figure:
    """A 2-D map of points (N, 2). Coloured by class (labels) or by a numeric value (color) on color_scale
    ("viridis" or "diverging") over color_range (default: the values' own), clipped to it; an image whose value
    is NaN is drawn faint grey under the others.

    highlight: positions in `points` drawn ringed; ranges: ((x0, x1), (y0, y1)) shown, else all the points."""
    points = np.asarray(points, dtype=np.float32)
    n = len(points)
    ids = np.arange(n) if ids is None else np.asarray(ids)
    size = marker_size or (5 if n <= 10_000 else 3)
    names = np.array(class_names if class_names else [], dtype=object)
    label_text = names[labels] if labels is not None and len(names) else (
        labels.astype(str) if labels is not None else np.full(n, "-", dtype=object))
    hover = ("index %{customdata}<br>label %{text}" + ("<br>" + color_name + " %{marker.color:.3g}" if color is not None
                                                         else "") + "<extra></extra>")
    x_range, y_range = ranges or extent(points)
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
        rows = np.arange(n)
        if color is not None:
            values = np.asarray(color, dtype=float)
            known = np.isfinite(values)
            if not known.all():
                unknown = np.flatnonzero(~known)
                fig.add_trace(go.Scattergl(
                    x=points[unknown, 0], y=points[unknown, 1], mode="markers", name="no value", showlegend=False,
                    customdata=ids[unknown], text=label_text[unknown],
                    hovertemplate="index %{customdata}<br>label %{text}<br>" + color_name
                                  + ": not measured<extra></extra>",
                    marker=dict(size=size, opacity=0.35, color=NO_VALUE_COLOUR)))
                rows = np.flatnonzero(known)
            lo, hi = color_range if color_range is not None else (None, None)
            marker.update(color=values[rows], colorscale=plotly_scale(color_scale), cmin=lo, cmax=hi, showscale=True,
                          colorbar=dict(title=color_name, thickness=12))
        fig.add_trace(go.Scattergl(x=points[rows, 0], y=points[rows, 1], mode="markers", name="images",
                                   customdata=ids[rows], text=label_text[rows], hovertemplate=hover, marker=marker,
                                   showlegend=False))
    if highlight is not None and len(highlight):
        h = np.asarray(highlight, dtype=int)
        fig.add_trace(go.Scattergl(x=points[h, 0], y=points[h, 1], mode="markers", name="selected", customdata=ids[h],
                                   text=label_text[h], hovertemplate=hover,
                                   marker=dict(size=size + 6, color="rgba(0,0,0,0)",
                                               line=dict(width=2, color="black"))))
    if clicked is not None:
        fig.add_trace(clicked_trace(clicked))
    return _laid_out(fig, title, height, x_range, y_range)


def _laid_out(fig: go.Figure, title: str, height: int, x_range, y_range, **layout) -> go.Figure:
    # the title sits at the top of the figure, the legend (which pushes the margin down) below it
    fig.update_layout(title=dict(text=title, y=0.99, yref="container", yanchor="top") if title else None,
                      height=height, margin=dict(l=10, r=10, t=50 if title else 10, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, itemsizing="constant"),
                      hovermode="closest", clickmode="event+select", uirevision="map",
                      xaxis=dict(range=list(x_range), showgrid=False, zeroline=False),
                      yaxis=dict(range=list(y_range), showgrid=False, zeroline=False))
    fig.update_layout(**layout)
    return fig


def in_view(points: np.ndarray, ranges) -> np.ndarray:
    """Row ids of the points inside ((x0, x1), (y0, y1))."""
    (x0, x1), (y0, y1) = ranges
    return np.flatnonzero((points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1))


def view_figure(points: np.ndarray, ranges=None, labels=None, color=None, highlight=None, **style) -> go.Figure:
    """The map at any size: the points inside the view as clickable markers while there are at most
    DENSITY_ABOVE of them, else a density picture of all of them (never a million JSON points).

    ranges: the view ((x0, x1), (y0, y1)), default the whole map; highlight: row ids; style: map_figure's."""
    points = np.asarray(points, dtype=np.float32)
    ranges = ranges or extent(points)
    shown = in_view(points, ranges)
    if len(shown) > DENSITY_ABOVE:
        return density_figure(points, ranges, labels, color, highlight, **{**style, "grid": True})  # all one can click
    marked = np.flatnonzero(np.isin(shown, np.asarray(highlight if highlight is not None else [], dtype=np.int64)))
    return map_figure(points[shown], labels=None if labels is None else np.asarray(labels)[shown],
                      color=None if color is None else np.asarray(color)[shown], ids=shown, highlight=marked,
                      ranges=ranges, **style)


_PICTURES: OrderedDict = OrderedDict()  # (id(points), ranges, colouring) -> (points, the whole map's RGBA picture)


def density_figure(points: np.ndarray, ranges, labels=None, color=None, highlight=None, class_names=None,
                   color_name: str = "label", clicked=None, grid: bool = True, title: str = "",
                   height: int = 520, marker_size=None, color_scale: str = "viridis",
                   color_range: tuple[float, float] | None = None) -> go.Figure:
    """All the points as one density image under an invisible click grid, coloured by class or factor.

    A selection is drawn in full colour over the faded whole, and ringed when it is small, so that a single
    clicked image stays visible. Zoom and pan are off: the page re-renders a box instead.
    The whole map's picture is kept for the same points array, view and colouring, so a click only draws
    its selection."""
    x_range, y_range = ranges
    width, height_px = DENSITY_PIXELS
    values = None if color is None else np.asarray(color, dtype=np.float64)
    by_class = labels is not None and values is None
    classes = np.asarray(labels) if by_class else None
    value_range = None if values is None else color_range or (float(np.nanmin(values)), float(np.nanmax(values)))

    def layer(rows, opacity: float = 1.0) -> np.ndarray:
        return density.render(points[rows], x_range, y_range, width, height_px, opacity=opacity, palette=PALETTE,
                               classes=None if classes is None else classes[rows],
                               values=None if values is None else values[rows], value_range=value_range,
                               scale=color_scale)

    key = (id(points), ranges, (color_name, color_scale, value_range) if values is not None else by_class)
    if key in _PICTURES and _PICTURES[key][0] is points:  # the very same array, not one that took its id
        _PICTURES.move_to_end(key)
        whole = _PICTURES[key][1]
    else:
        whole = layer(slice(None))
        _PICTURES[key] = (points, whole)
        while len(_PICTURES) > 8:
            _PICTURES.popitem(last=False)
    picked = np.zeros(len(points), bool)
    if highlight is not None and len(highlight):
        picked[np.asarray(highlight, dtype=np.int64)] = True
    image = density.over(layer(picked), density.faded(whole, 0.25)) if picked.any() else whole
    fig = go.Figure()
    fig.add_layout_image(source=density.png_data_uri(image), xref="x", yref="y", x=x_range[0], y=y_range[1],
                         sizex=x_range[1] - x_range[0], sizey=y_range[1] - y_range[0], sizing="stretch",
                         xanchor="left", yanchor="top", layer="below")
    if grid:
        fig.add_trace(grid_trace(x_range, y_range, DENSITY_GRID_N))
    names = list(class_names or [])
    if by_class:  # legend entries only: the colours live in the image
        for k in np.flatnonzero(np.bincount(classes)):
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=names[k] if len(names) > k else str(k),
                                     marker=dict(size=8, color=PALETTE[int(k) % len(PALETTE)])))
    elif values is not None:
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="none",
                                 marker=dict(color=list(value_range), colorscale=plotly_scale(color_scale),
                                             showscale=True, colorbar=dict(title=color_name, thickness=12))))
    ringed = np.flatnonzero(picked)
    if 0 < len(ringed) <= HIGHLIGHT_MARKERS:
        fig.add_trace(go.Scattergl(x=points[ringed, 0], y=points[ringed, 1], mode="markers", name="selected",
                                   customdata=ringed, hovertemplate="index %{customdata}<extra></extra>",
                                   marker=dict(size=9, color="rgba(0,0,0,0)", line=dict(width=2, color="black"))))
    if clicked is not None:
        fig.add_trace(clicked_trace(clicked))
    return _laid_out(fig, title, height, x_range, y_range,
                     legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, itemclick=False, itemdoubleclick=False),
                     xaxis=dict(range=list(x_range), fixedrange=True, showgrid=False, zeroline=False),
                     yaxis=dict(range=list(y_range), fixedrange=True, showgrid=False, zeroline=False))


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
