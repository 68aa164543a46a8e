"""Chart selection events (as st.plotly_chart reports them) -> row ids and clicked spots."""

from explorer.selection import GRID_ID, box_range, clicked_xy, is_area_selection, selected_ids


def point(x, y, cd, curve=1, idx=0):
    return {"curve_number": curve, "point_number": idx, "point_index": idx, "x": x, "y": y, "customdata": cd}


def event(points=(), box=(), lasso=()):
    return {"selection": {"points": list(points), "point_indices": [p["point_index"] for p in points],
                          "box": list(box), "lasso": list(lasso)}}


def test_empty_events():
    for e in (None, {}, event(), {"selection": None}):
        assert selected_ids(e) == []
        assert clicked_xy(e) is None
        assert not is_area_selection(e)
        assert box_range(e) is None


def test_click_on_a_data_point():
    e = event([point(1.5, -2.0, 42)])
    assert selected_ids(e) == [42]
    assert clicked_xy(e) == (1.5, -2.0)
    assert not is_area_selection(e)


def test_customdata_as_list_and_duplicates():
    e = event([point(0, 0, [7]), point(1, 1, [3]), point(0, 0, [7], curve=4)])
    assert selected_ids(e) == [7, 3]


def test_click_on_empty_space_selects_a_grid_point():
    e = event([point(0.25, 0.75, GRID_ID, curve=0)])
    assert selected_ids(e) == []  # no image ...
    assert clicked_xy(e) == (0.25, 0.75)  # ... but the spot


def test_data_point_wins_over_grid_point_under_it():
    e = event([point(9.0, 9.0, GRID_ID, curve=0), point(1.0, 2.0, 5)])
    assert clicked_xy(e) == (1.0, 2.0)


def test_box_selection():
    box = {"xref": "x", "yref": "y", "x": [3.0, -1.0], "y": [0.0, 2.0]}
    e = event([point(0, 1, 11), point(1, 1, GRID_ID, curve=0), point(2, 1, 12)], box=[box])
    assert selected_ids(e) == [11, 12]
    assert is_area_selection(e)
    assert box_range(e) == ((-1.0, 3.0), (0.0, 2.0))
    assert clicked_xy(e) == (1.0, 1.0)  # the centre of the box


def test_lasso_selection():
    lasso = {"xref": "x", "yref": "y", "x": [0.0, 2.0, 2.0, 0.0], "y": [0.0, 0.0, 4.0, 4.0]}
    e = event([point(1, 1, 3)], lasso=[lasso])
    assert selected_ids(e) == [3]
    assert is_area_selection(e) and box_range(e) is None
    assert clicked_xy(e) == (1.0, 2.0)


def test_non_numeric_customdata_is_ignored():
    e = event([point(0, 0, "abc"), point(0, 0, None), point(1, 1, [])])
    assert selected_ids(e) == []


def test_area_selections_are_computed_over_all_points():
    import numpy as np

    from explorer.selection import ids_in_area, nearest_row, picked_rows

    pts = np.random.default_rng(0).uniform(-1, 1, size=(200_000, 2))
    box = event(box=[{"x": [0.5, 0.0], "y": [0.0, 0.5]}])  # corners in either order
    want = np.flatnonzero((pts[:, 0] >= 0) & (pts[:, 0] <= 0.5) & (pts[:, 1] >= 0) & (pts[:, 1] <= 0.5))
    np.testing.assert_array_equal(ids_in_area(box, pts), want)
    triangle = event(lasso=[{"x": [0, 1, 0], "y": [0, 0, 1]}])
    got = ids_in_area(triangle, pts)
    inside = (pts[:, 0] > 0) & (pts[:, 1] > 0) & (pts[:, 0] + pts[:, 1] < 1)
    assert abs(len(got) - inside.sum()) <= 2 and inside[got].all()  # the edge itself may go either way
    assert ids_in_area(event(points=[point(0, 0, 3)]), pts) is None  # a click is no area
    # on a density map a click picks the image nearest the spot; on a marker map its own row id
    spot = event(points=[point(0.3, -0.2, GRID_ID)])
    assert picked_rows(spot, pts, dense=True) == ([nearest_row(pts, (0.3, -0.2))], False)
    assert np.argmin(np.hypot(pts[:, 0] - 0.3, pts[:, 1] + 0.2)) == nearest_row(pts, (0.3, -0.2))
    assert picked_rows(spot, pts, dense=False) == ([], False)
    assert picked_rows(box, pts, dense=True)[0] == want.tolist()
