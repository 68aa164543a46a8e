"""The folders the app reads: the checkpoint root, and the data roots a path typed in the app may point into
(the CLI is not restricted).

A visitor of the app must not make the server read any file it can reach, so a typed path is resolved
(symlinks and `..` followed) and accepted only when it lands inside one of the data roots:
$EXPLORER_DATA_ROOTS (folders separated by os.pathsep), else the data root the loaders use
($EXPLORER_DATA, else the project's own data/ folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from explorer.errors import ExplorerError

ENV = "EXPLORER_DATA_ROOTS"
PROJECT_DATA = Path(__file__).resolve().parents[1] / "data"
SHIPPED_ROOT = Path(__file__).resolve().parents[1] / "checkpoints"


def checkpoint_root() -> Path:
    """Where checkpoints live: $EXPLORER_CHECKPOINTS, else the shipped checkpoints/ folder."""
    return Path(os.environ.get("EXPLORER_CHECKPOINTS") or SHIPPED_ROOT)


def data_roots() -> list[Path]:
    """The allowed folders, resolved; the first one also receives uploads."""
    raw = os.environ.get(ENV, "")
    roots = [Path(p.strip()).expanduser() for p in raw.split(os.pathsep) if p.strip()]
    if not roots:
        roots = [Path(os.environ["EXPLORER_DATA"]).expanduser() if os.environ.get("EXPLORER_DATA") else PROJECT_DATA]
    return [r.resolve() for r in roots]


def resolve_inside_roots(user_path: str) -> Path:
    """The real path of user_path (relative paths count from the first root); ExplorerError if outside every root."""
    text = user_path.strip()
    if not text:
        raise ExplorerError("enter the path of an image folder or an .npz / .npy file")
    roots = data_roots()
    path = Path(text).expanduser()
    real = (path if path.is_absolute() else roots[0] / path).resolve()  # follows symlinks and '..'
    if any(real == root or root in real.parents for root in roots):
        return real
    allowed = ", ".join(str(r) for r in roots)
    raise ExplorerError(f"{text}: outside the data folders; put your images under {allowed} "
                        f"(or add a folder to ${ENV})")
