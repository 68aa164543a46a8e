"""A map that stays readable at any size: markers or a density picture, with zoom by drilling into a box.

st.plotly_chart reports selections but not zoom or pan, so on a density map plotly's own zoom is off and the
page re-renders instead: a box or lasso, then "Zoom into the selection"; "Zoom out" steps back. Once few
enough points are in view they are drawn as markers again (explorer.mapplot.view_figure).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.mapplot import DENSITY_ABOVE, extent, in_view, view_figure
from explorer.selection import box_range, lasso_polygon, picked_rows

Ranges = tuple[tuple[float, float], tuple[float, float]]


def _views(key: str, identity: str) -> list[Ranges]:
    """The zoom stack of one chart; a new map (identity) starts from the whole map."""
    if st.session_state.get(f"{key}_identity") != identity:
        st.session_state.update({f"{key}_identity": identity, f"{key}_views": [], f"{key}_area": None})
    return st.session_state[f"{key}_views"]


def drawn_as(key: str, identity: str | None = None) -> tuple:
    """What chart `key` shows, or will show for map `identity`: the map and its zoom stack. While this stays the
    same, plotly keeps the outline of a box or lasso drawn on it, so the chart need not be redrawn to show it."""
    shown = st.session_state.get(f"{key}_identity")
    identity = shown if identity is None else identity
    return identity, tuple(st.session_state.get(f"{key}_views", [])) if identity == shown else ()


def selected_area(event) -> Ranges | None:
    """The bounding box of the event's box or lasso."""
    box = box_range(event)
    if box is not None:
        return box
    polygon = lasso_polygon(event)
    if polygon is None:
        return None
    (x0, y0), (x1, y1) = polygon.min(0), polygon.max(0)
    return (float(x0), float(x1)), (float(y0), float(y1))


def zoomable_map(key: str, identity: str, points: np.ndarray, on_pick=None,
                 selection_mode=("points", "box", "lasso"), decorate=None, **style) -> None:
    """Draw the map (chart key `key`) at its current zoom, with zoom controls once it is large or zoomed.

    identity: names the map (checkpoint + method), so another map starts unzoomed.
    on_pick(event, rows, area): called when a selection changes, with the row ids it picks (all points inside
    a box or lasso, on a density map too) and whether it was an area. style: view_figure's (labels, color,
    highlight, clicked, ...). decorate(fig, ranges): adds layers to the figure of the view shown (a heat layer)."""
    views = _views(key, identity)
    ranges = views[-1] if views else extent(points)
    n_in_view = len(in_view(points, ranges))
    dense = n_in_view > DENSITY_ABOVE  # drawn as a density picture: no markers to pick

    def picked() -> None:
        event = st.session_state.get(chart_key)
        st.session_state[f"{key}_area"] = selected_area(event)  # kept: a redrawn chart forgets its selection
        if on_pick is not None:
            on_pick(event, *picked_rows(event, points, dense))

    chart_key = f"{key}-{st.session_state.get(f'{key}_tools', 0)}"  # a new key: a fresh chart (see reset_tools)
    # on a density map plotly's own zoom would only stretch the picture: the page zooms instead
    no_zoom = ["zoom2d", "pan2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "resetScale2d"] if dense else []
    fig = view_figure(points, ranges, **style)
    if decorate is not None:
        decorate(fig, ranges)
    st.plotly_chart(fig, key=chart_key, on_select=picked, selection_mode=selection_mode,
                    config={"displaylogo": False, "modeBarButtonsToRemove": no_zoom})
    if len(points) > DENSITY_ABOVE or views:
        zoom_controls(key, views, st.session_state.get(f"{key}_area"))
        st.caption(f"{n_in_view:,} of {len(points):,} points in view, drawn as "
                   + ("density: zoom in to see single points" if dense else "points"))


def reset_tools(*keys: str) -> None:
    """Start these charts afresh: out of the box or lasso tool, in which a click picks nothing (a density map has
    no zoom or pan button to leave it by), and with no selection of their own."""
    for key in keys:
        st.session_state[f"{key}_tools"] = st.session_state.get(f"{key}_tools", 0) + 1


def zoom_controls(key: str, views: list[Ranges], area: Ranges | None) -> None:
    """Zoom in to the selected area, out one step, or to the whole map; each starts the chart afresh (reset_tools),
    so that a click picks single images in the new view."""
    c1, c2, c3 = st.columns(3)
    zoom_in = c1.button("Zoom into the selection", key=f"{key}_zoom_in", disabled=area is None,
                        help="Draw a box or lasso on the map first; the map is redrawn for that area.")
    zoom_out = c2.button("Zoom out", key=f"{key}_zoom_out", disabled=not views)
    whole = c3.button("Whole map", key=f"{key}_zoom_reset", disabled=not views)
    if zoom_in:
        views.append(area)
        st.session_state[f"{key}_area"] = None
    elif zoom_out:
        views.pop()
    elif whole:
        views.clear()
    if zoom_in or zoom_out or whole:
        reset_tools(key)
        st.rerun()
