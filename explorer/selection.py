"""Turn a st.plotly_chart selection event into row ids and into a clicked map spot.

The event is {"selection": {"points": [...], "point_indices": [...], "box": [...], "lasso": [...]}}.
point_index counts within a trace, so the maps carry the dataset row id in `customdata`; the
invisible click grid (see explorer.mapplot) carries GRID_ID there instead, so its points are never
mistaken for images but still tell us where on the map a click landed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

GRID_ID = -1  # customdata of the invisible grid points under the data


def _selection(event: Any) -> dict:
    if not event:
        return {}
    sel = event.get("selection") if hasattr(event, "get") else None
    return dict(sel) if sel else {}


def _row_id(point: dict) -> int | None:
    """The row id a point carries in customdata (a scalar, or the first entry of a list)."""
    cd = point.get("customdata")
    if isinstance(cd, (list, tuple)):
        cd = cd[0] if cd else None
    if cd is None:
        return None
    try:
        return int(cd)
    except (TypeError, ValueError):
        return None


def selected_ids(event: Any) -> list[int]:
    """Dataset row ids of the selected data points, in selection order, without duplicates or grid points."""
    ids: list[int] = []
    seen: set[int] = set()
    for point in _selection(event).get("points", []):
        rid = _row_id(point)
        if rid is not None and rid != GRID_ID and rid >= 0 and rid not in seen:
            seen.add(rid)
            ids.append(rid)
    return ids


def is_area_selection(event: Any) -> bool:
    """True for a box or lasso selection, False for a click (or nothing)."""
    sel = _selection(event)
    return bool(sel.get("box") or sel.get("lasso"))


def box_range(event: Any) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """((x0, x1), (y0, y1)) of the last box selection, sorted; None without one."""
    boxes = _selection(event).get("box") or []
    if not boxes:
        return None
    box = boxes[-1]
    xs, ys = box.get("x") or [], box.get("y") or []
    if len(xs) < 2 or len(ys) < 2:
        return None
    return (float(min(xs)), float(max(xs))), (float(min(ys)), float(max(ys)))


def clicked_xy(event: Any) -> tuple[float, float] | None:
    """The map spot a click picked: the clicked point's x, y (a data point or a grid point);
    for a box or lasso, the centre of the area. None when nothing is selected."""
    sel = _selection(event)
    box = box_range(event)
    if box is not None:
        (x0, x1), (y0, y1) = box
        return (x0 + x1) / 2, (y0 + y1) / 2
    lassos = sel.get("lasso") or []
    if lassos and lassos[-1].get("x") and lassos[-1].get("y"):
        xs, ys = lassos[-1]["x"], lassos[-1]["y"]
        return float(sum(xs) / len(xs)), float(sum(ys) / len(ys))
    points = [p for p in sel.get("points", []) if p.get("x") is not None and p.get("y") is not None]
    if not points:
        return None
    data = [p for p in points if _row_id(p) not in (None, GRID_ID)]
    point = (data or points)[0]  # a data point wins over the grid point under it
    return float(point["x"]), float(point["y"])


def lasso_polygon(event: Any) -> np.ndarray | None:
    """(M, 2) vertices of the last lasso selection; None without one."""
    lassos = _selection(event).get("lasso") or []
    if not lassos or not lassos[-1].get("x") or not lassos[-1].get("y"):
        return None
    return np.column_stack([lassos[-1]["x"], lassos[-1]["y"]]).astype(np.float64)


def ids_in_area(event: Any, points: np.ndarray) -> np.ndarray | None:
    """Row ids of ALL points (N, 2) inside the event's box or lasso, computed here rather than in the browser
    (a density map sends no points to select); None when the event is no area selection."""
    box, polygon = box_range(event), lasso_polygon(event)
    if box is not None:
        (x0, x1), (y0, y1) = box
        inside = (points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1)
        return np.flatnonzero(inside)
    if polygon is not None:
        from matplotlib.path import Path

        (x0, y0), (x1, y1) = polygon.min(0), polygon.max(0)
        near = np.flatnonzero((points[:, 0] >= x0) & (points[:, 0] <= x1) & (points[:, 1] >= y0) & (points[:, 1] <= y1))
        return near[Path(polygon).contains_points(points[near])]  # the bounding box first: fewer points to test
    return None


def nearest_row(points: np.ndarray, xy: tuple[float, float]) -> int:
    """The row whose map point lies nearest the spot (brute force: ~10 ms for a million points)."""
    d2 = (points[:, 0] - xy[0]) ** 2 + (points[:, 1] - xy[1]) ** 2
    return int(np.argmin(d2))


def picked_rows(event: Any, points: np.ndarray, dense: bool) -> tuple[list[int], bool]:
    """(row ids, whether an area was selected) that an event picks on a map of `points` (N, 2).

    Markers carry their row ids. On a density map (dense) there are none to pick: a box or lasso selects
    every point inside it, and a click (on the invisible grid) picks the image nearest the spot."""
    area = is_area_selection(event)
    if not dense:
        return selected_ids(event), area
    if area:
        inside = ids_in_area(event, points)
        return ([] if inside is None else inside.tolist()), True
    ids, spot = selected_ids(event), clicked_xy(event)  # a ringed (selected) image can be clicked itself
    return (ids[:1] if ids else [] if spot is None else [nearest_row(points, spot)]), False
