"""Atomic writes: the work goes to a temporary file or folder beside the target, then is renamed into
place, so a killed run never leaves half a file behind and readers see the old or the new, never a mix."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_dead_temps(folder: Path, pattern: str) -> None:
    """Delete the temporary files or folders matching pattern in folder (named `....tmp-<PID>...`) whose
    process died (e.g. kill -9); a live process's are left alone."""
    for tmp in Path(folder).glob(pattern):
        pid = tmp.name.rsplit(".tmp-", 1)[1].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def remove_orphans(target: Path) -> None:
    """Delete the temporary files or folders of earlier writes of target whose process died."""
    remove_dead_temps(target.parent, f".{target.name}.tmp-*")


def atomic_write_dir(target: Path, write) -> None:
    """Call write(tmp_dir), then move tmp_dir to target, replacing any old one.

    The temporary folder is named after this process, so a later write can tell a dead run's leftovers."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        write(tmp)
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_file(target: Path, write) -> Path:
    """Call write(binary_file) on a temporary file beside target, then rename it to target."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; these files are shared like any other
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
