"""The codes of every image, computed once per checkpoint and stored beside it (codes.npy + codes.json).

The app and the CLI read them instead of re-encoding a large set on every start. codes.json records what
they were computed from (a digest of the weights, the dataset's fingerprint, N and d); codes that do not
match, or a file that does not open with the recorded shape, are recomputed. codes.npy is written first
and codes.json last, each atomically, so a killed write leaves nothing that would be trusted. Under
torchrun every rank encodes its own block of images into the one file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from explorer import distributed
from explorer.atomic import atomic_write_file, remove_orphans
from explorer.evaluate import encode_all

CODES, STAMP = "codes.npy", "codes.json"
BLOCK = 65_536  # images encoded per block: bounds the memory and sets the progress bar's steps


def weights_digest(ckpt_dir: Path) -> str:
    h = hashlib.sha256()
    with open(Path(ckpt_dir) / "model.safetensors", "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def _stamp(ckpt_dir: Path, model, dataset) -> dict:
    return {"weights": weights_digest(ckpt_dir), "dataset": dataset.fingerprint, "n": len(dataset), "dim": model.dim}


def read_codes(ckpt_dir: str | Path, model, dataset) -> np.ndarray | None:
    """The stored codes (N, d), memory-mapped, when they match this model and dataset; else None."""
    ckpt_dir = Path(ckpt_dir)
    try:
        stored = json.loads((ckpt_dir / STAMP).read_text())
        codes = np.load(ckpt_dir / CODES, mmap_mode="r")
    except (OSError, ValueError):
        return None
    fresh = stored == _stamp(ckpt_dir, model, dataset)
    if not fresh or codes.shape != (len(dataset), model.dim) or codes.dtype != np.float32:
        return None
    return codes


def store_codes(ckpt_dir: str | Path, model, dataset, progress: Callable[[int, int], None] | None = None,
                together: bool = True, codes: np.ndarray | None = None) -> np.ndarray:
    """Encode every image in blocks, write codes.npy and codes.json beside the checkpoint, return the codes.

    Under torchrun, with together=True, every rank calls this and encodes its own share into the one file;
    together=False: this process alone (e.g. rank 0 after training). codes, if given, are this model's
    codes of every image, already computed: written, not recomputed. progress(done, total) after each block."""
    ckpt_dir = Path(ckpt_dir)
    team = together and distributed.active()
    lead = not team or distributed.is_main()
    sync = distributed.barrier if team else lambda: None
    pid = distributed.broadcast_int(os.getpid()) if team else os.getpid()
    tmp = ckpt_dir / f".{CODES}.tmp-{pid}"  # the lead's PID, on every rank: one file
    if lead:
        remove_orphans(ckpt_dir / CODES)
        np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(dataset), model.dim)).flush()
    sync()
    try:
        out = np.lib.format.open_memmap(tmp, mode="r+")
        mine = distributed.shard(len(dataset)) if team else range(len(dataset))
        for start in range(mine.start, mine.stop, BLOCK):
            stop = min(start + BLOCK, mine.stop)
            out[start:stop] = (codes[start:stop] if codes is not None
                               else encode_all(model, dataset.images.take(np.arange(start, stop))).numpy())
            if progress:
                progress(stop - mine.start, len(mine))
        out.flush()
        del out
        sync()
        if lead:
            os.replace(tmp, ckpt_dir / CODES)
            stamp = json.dumps(_stamp(ckpt_dir, model, dataset))
            atomic_write_file(ckpt_dir / STAMP, lambda f: f.write(stamp.encode()))
    except BaseException:
        if lead:
            tmp.unlink(missing_ok=True)
        raise
    sync()
    return np.load(ckpt_dir / CODES, mmap_mode="r")


def codes_for(ckpt_dir: str | Path, model, dataset, progress=None) -> np.ndarray:
    """The stored codes, or computed and stored now (kept in memory only when the folder is read-only)."""
    codes = read_codes(ckpt_dir, model, dataset)
    if codes is not None:
        return codes
    try:
        return store_codes(ckpt_dir, model, dataset, progress)
    except PermissionError:
        return encode_all(model, dataset.images).numpy()
