"""reset_on_change: a page's state is set on the first run, kept while its identity holds, reset when it changes."""

from explorer.ui.page_state import reset_on_change


def test_first_run_fills_missing_keys_and_a_kept_identity_keeps_the_state():
    state = {"area": (0, 1)}  # set before the page first ran (a test, a link): kept
    assert not reset_on_change("p", ("mnist5k", None), {"rows": [1, 2], "area": None}, state)
    assert state["rows"] == [1, 2] and state["area"] == (0, 1)
    state["rows"] = [7]  # the visitor's own choice
    assert not reset_on_change("p", ("mnist5k", None), {"rows": [1, 2], "area": None}, state)
    assert state["rows"] == [7] and state["area"] == (0, 1)


def test_a_new_identity_resets_only_its_own_keys():
    state = {"other": "kept"}
    reset_on_change("p", "a", {"rows": []}, state)
    state["rows"], state["area"] = [3], (0, 1)
    assert reset_on_change("p", "b", {"rows": [], "area": None}, state)
    assert state == {"other": "kept", "rows": [], "_identity_p": "b"}
    # two names on one page keep separate identities
    reset_on_change("q", "a", {"x": 1}, state)
    assert not reset_on_change("p", "b", {"rows": [9]}, state)
    assert state["rows"] == [] and state["x"] == 1
