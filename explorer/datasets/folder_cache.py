"""A folder of image files is decoded once, in parallel, into a uint8 .npy (N, C, size, size) with a small
JSON beside it; later opens memory-map that file, so 100k images open in about a second instead of being
decoded again. The cache is keyed by the folder's listing (paths, sizes, modification times), so adding,
removing or editing a file builds a new one; the key doubles as the dataset fingerprint.

Crash safety: the .npy is written under a temporary name carrying the PID, renamed into place, and only
then is the JSON written. A reader trusts an entry only when the JSON matches the key and the .npy has
exactly the recorded shape and size, so a killed or truncated build is rebuilt, never read."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.atomic import atomic_write_file, remove_dead_temps
from explorer.dataroots import checkpoint_root
from explorer.errors import ExplorerError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
FORMAT_VERSION = 1  # bump when decoding or the file layout changes: old caches then stop matching
PARALLEL_MIN = 2000  # fewer files than this decode in-process: a process pool's start-up would cost more
CHUNK = 256  # files per task: large enough to amortise the hand-off, small enough for smooth progress


@dataclass
class FolderCache:
    images: np.ndarray  # (N, C, size, size) uint8, memory-mapped copy-on-write
    labels: list[str] | None  # the sub-folder of each image; None when the folder has no sub-folders
    skipped: int  # unreadable files left out
    fingerprint: str


def decode_image(source, size: int, color: str = "gray") -> np.ndarray:
    """One image file (path or file-like) -> (C, size, size) uint8. Raises on a bad file."""
    from PIL import Image

    with Image.open(source) as img:
        img = img.convert("L" if color == "gray" else "RGB").resize((size, size), Image.BILINEAR)
        arr = np.asarray(img, dtype=np.uint8)
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def cache_dir() -> Path:
    """$EXPLORER_CACHE/folders, else .cache/folders beside the checkpoints."""
    if os.environ.get("EXPLORER_CACHE"):
        return Path(os.environ["EXPLORER_CACHE"]) / "folders"
    return checkpoint_root() / ".cache" / "folders"


def list_images(root: Path) -> tuple[list[tuple[Path, str | None]], bool]:
    """(path, label) for every image file in listing order, and whether sub-folders give labels."""
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if subdirs:
        entries = [(f, d.name) for d in subdirs for f in sorted(d.rglob("*")) if f.suffix.lower() in IMAGE_SUFFIXES]
    else:
        entries = [(f, None) for f in sorted(root.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    return entries, bool(subdirs)


def folder_key(root: Path, entries, size: int, color: str) -> str:
    """Hash of everything the pixels depend on; stat() is the only per-file cost."""
    h = hashlib.sha256(f"v{FORMAT_VERSION}|{size}|{color}|".encode() + os.fsencode(root.resolve()))
    for path, label in entries:
        st = path.stat()
        h.update(b"\0" + os.fsencode(path.relative_to(root)) + f"|{label}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


def _folder_id(root: Path, size: int, color: str) -> str:
    """Names every cache of one folder with one set of options, so stale ones can be found by name."""
    return hashlib.sha256(f"{size}|{color}|".encode() + os.fsencode(root.resolve())).hexdigest()[:16]


def folder_images(root: Path, size: int, color: str, progress=None) -> tuple[np.ndarray, list[str] | None, str]:
    """(images, labels, fingerprint) of a folder, from its cache or built now; warns about skipped files.

    progress(done, total) is called as chunks of files finish decoding (only when building)."""
    cache = open_folder(Path(root), size, color, progress)
    if cache.skipped:
        warnings.warn(f"{root}: skipped {cache.skipped} unreadable or corrupt image file(s)", stacklevel=2)
    return cache.images, cache.labels, cache.fingerprint


def open_folder(root: Path, size: int, color: str, progress=None) -> FolderCache:
    """The cache of root for (size, color): reused when valid, else built (and the folder's stale ones removed)."""
    entries, labelled = list_images(root)
    if not entries:
        raise ExplorerError(
            f"{root}: no readable images found; put .png / .jpg files in it (sub-folders become labels)")
    key = folder_key(root, entries, size, color)
    stem = cache_dir() / f"{_folder_id(root, size, color)}-{key}"
    cache = _read(stem, key)
    if cache is None:
        cache = _build(stem, key, root, entries, labelled, size, color, progress)
    return cache


def _read(stem: Path, key: str) -> FolderCache | None:
    """The entry at stem if its JSON matches key and its .npy is whole; None for anything else."""
    try:
        meta = json.loads(stem.with_suffix(".json").read_text())
        npy = stem.with_suffix(".npy")
        images = np.load(npy, mmap_mode="c", allow_pickle=False)
        whole = images.offset + images.nbytes == npy.stat().st_size
        labels = meta["labels"]
        if (meta["key"], meta["version"], list(images.shape), str(images.dtype)) != (
            key, FORMAT_VERSION, meta["shape"], "uint8"
        ) or not whole or (labels is not None and len(labels) != len(images)):
            return None
        return FolderCache(images, labels, int(meta["skipped"]), key)
    except Exception:
        return None


def _build(stem, key, root, entries, labelled, size, color, progress) -> FolderCache:
    """Decode every file into a PID-named temporary .npy, rename it into place, then write the JSON."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temps(stem.parent, ".*.tmp-*")  # dead builds' leftovers: never read
    stem.with_suffix(".json").unlink(missing_ok=True)  # from here on the entry is not trusted
    tmp = _temp_name(stem, "npy")
    try:
        kept = _decode_into(tmp, [str(p) for p, _ in entries], size, color, progress)
        n = sum(kept)
        if n == 0:
            raise ExplorerError(f"{root}: no readable images found ({len(entries)} file(s), none could be decoded)")
        if n < len(entries):
            tmp = _shrink(tmp, stem, n)
        os.replace(tmp, stem.with_suffix(".npy"))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    labels = [label for (_, label), ok in zip(entries, kept) if ok] if labelled else None
    _write_meta(stem, key, root, size, color, n, labels, len(entries) - n)
    _remove_stale(stem)
    return FolderCache(np.load(stem.with_suffix(".npy"), mmap_mode="c"), labels, len(entries) - n, key)


def _temp_name(stem: Path, what: str) -> Path:
    """PID (and thread) in the name: a later build can tell a dead run's leftovers from a live one's."""
    return stem.with_name(f".{stem.name}.{what}.tmp-{os.getpid()}-{threading.get_ident()}")


def _decode_into(tmp: Path, paths: list[str], size: int, color: str, progress) -> list[bool]:
    """Decode paths into a new .npy at tmp, readable images packed first; returns which files were kept."""
    channels = 1 if color == "gray" else 3
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(paths), channels, size, size))
    chunks = [paths[i : i + CHUNK] for i in range(0, len(paths), CHUNK)]
    kept, n = [], 0
    for images, ok in _map_chunks(chunks, size, color):
        if images is not None:
            out[n : n + len(images)] = images
            n += len(images)
        kept += ok
        if progress is not None:
            progress(len(kept), len(paths))
    out.flush()
    del out
    return kept


def _map_chunks(chunks, size, color):
    """Decoded chunks in order: in a process pool for large folders, in-process for small ones."""
    n_files = sum(len(c) for c in chunks)
    workers = min(os.cpu_count() or 1, len(chunks))
    if n_files < PARALLEL_MIN or workers < 2:
        yield from (_decode_chunk(c, size, color) for c in chunks)
        return
    # fork: workers start at once and need nothing re-imported; they only run PIL and numpy
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        try:
            yield from pool.map(_decode_chunk, chunks, [size] * len(chunks), [color] * len(chunks))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _decode_chunk(paths: list[str], size: int, color: str):
    """(stacked uint8 images of the readable files or None, which files were readable): one worker task."""
    images, ok = [], []
    for path in paths:
        try:
            images.append(decode_image(path, size, color))
            ok.append(True)
        except Exception:
            ok.append(False)
    return (np.stack(images) if images else None), ok


def _shrink(tmp: Path, stem: Path, n: int) -> Path:
    """Copy the first n images into an exactly-sized .npy (only when some files could not be read)."""
    full = np.load(tmp, mmap_mode="r")
    exact_path = _temp_name(stem, "exact")
    try:
        exact = np.lib.format.open_memmap(exact_path, mode="w+", dtype=np.uint8, shape=(n, *full.shape[1:]))
        for i in range(0, n, 4096):
            exact[i : i + 4096] = full[i : min(i + 4096, n)]
        exact.flush()
        del exact, full
    except BaseException:
        exact_path.unlink(missing_ok=True)
        raise
    tmp.unlink()
    return exact_path


def _write_meta(stem, key, root, size, color, n, labels, skipped) -> None:
    """Written last and atomically: its presence says the .npy beside it is complete."""
    meta = {
        "version": FORMAT_VERSION,
        "key": key,
        "folder": str(Path(root).resolve()),
        "size": size,
        "color": color,
        "n": n,
        "shape": [n, 1 if color == "gray" else 3, size, size],
        "dtype": "uint8",
        "skipped": skipped,
        "labels": labels,
    }
    atomic_write_file(stem.with_suffix(".json"), lambda f: f.write(json.dumps(meta).encode()))


def _remove_stale(stem: Path) -> None:
    """Delete caches of the same folder and options under other keys: the folder has changed since."""
    folder_id = stem.name.split("-", 1)[0]
    for old in stem.parent.glob(f"{folder_id}-*"):
        if old.name.split(".", 1)[0] != stem.name:
            old.unlink(missing_ok=True)
