"""Typed paths are accepted only inside the data roots: outside paths, '..' escapes and symlink escapes
are refused with one line naming the allowed folders."""

import os

import pytest

from explorer.dataroots import PROJECT_DATA, data_roots, resolve_inside_roots
from explorer.errors import ExplorerError


@pytest.fixture
def roots(tmp_path, monkeypatch):
    a, b, outside = tmp_path / "a", tmp_path / "b", tmp_path / "outside"
    for p in (a, b, outside):
        p.mkdir()
    monkeypatch.setenv("EXPLORER_DATA_ROOTS", f"{a}{os.pathsep}{b}")
    return a, b, outside


def refused(path: str, roots) -> str:
    with pytest.raises(ExplorerError) as err:
        resolve_inside_roots(path)
    msg = str(err.value)
    assert "\n" not in msg and str(roots[0].resolve()) in msg and str(roots[1].resolve()) in msg
    return msg


def test_default_root_is_explorer_data_else_the_project_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("EXPLORER_DATA_ROOTS", raising=False)
    monkeypatch.delenv("EXPLORER_DATA", raising=False)
    assert data_roots() == [PROJECT_DATA.resolve()]
    monkeypatch.setenv("EXPLORER_DATA", str(tmp_path))
    assert data_roots() == [tmp_path.resolve()]


def test_paths_inside_any_root_are_accepted(roots):
    a, b, _ = roots
    (a / "imgs").mkdir()
    assert resolve_inside_roots(str(a / "imgs")) == (a / "imgs").resolve()
    assert resolve_inside_roots(f"  {b}/x.npz ") == (b / "x.npz").resolve()
    assert resolve_inside_roots("imgs") == (a / "imgs").resolve()  # relative to the first root
    assert resolve_inside_roots(str(b / "sub" / ".." / "y")) == (b / "y").resolve()  # '..' that stays inside


def test_outside_paths_and_escapes_are_refused(roots):
    a, _, outside = roots
    assert "outside the data folders" in refused(str(outside), roots)
    refused("/etc/passwd", roots)
    refused(f"{a}/../outside", roots)
    refused("../outside", roots)  # relative to the first root, then up and out
    refused(str(a.parent), roots)


def test_symlink_escapes_are_refused(roots):
    a, _, outside = roots
    (a / "link").symlink_to(outside, target_is_directory=True)
    refused(str(a / "link"), roots)
    refused("link", roots)
    (outside / "back").symlink_to(a, target_is_directory=True)  # a symlink outside that points in is fine
    assert resolve_inside_roots(str(outside / "back")) == a.resolve()


def test_empty_path_is_one_line():
    with pytest.raises(ExplorerError, match="enter the path"):
        resolve_inside_roots("   ")
