"""The folder cache: decoded once (in-process or in a pool), reopened without decoding, rebuilt whenever
the folder changed or the cache is damaged, and never trusted after a killed build."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import explorer.datasets.folder_cache as fc
from explorer.datasets import load_dataset

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    """Every test gets its own empty cache folder."""
    monkeypatch.setenv("EXPLORER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "folders"


def _write(path: Path, pixels: np.ndarray) -> None:
    Image.fromarray(pixels).save(path)


def labelled_folder(root: Path, per_class=3, size=8, seed=0):
    """cats/ and dogs/ of random gray PNGs at the decode size (so decoding is exact) plus one corrupt
    file; returns the pixels (N, 1, size, size) and labels expected in listing order.

    At most 64 distinct images, their encoded bytes copied: writing thousands of files stays fast."""
    rng = np.random.default_rng(seed)
    distinct = rng.integers(0, 256, (min(per_class * 2, 64), size, size), dtype=np.uint8)
    encoded = []
    for pixels in distinct:
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        encoded.append(buffer.getvalue())
    expected, labels = [], []
    for label in ("cats", "dogs"):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            k = len(expected) % len(distinct)
            (root / label / f"{i:05d}.png").write_bytes(encoded[k])
            expected.append(distinct[k][None])
            labels.append(label)
    (root / "dogs" / "broken.png").write_bytes(b"not a png")
    return np.stack(expected), labels


def counting_decoder(monkeypatch) -> list:
    """Replace the decoder with one that records its calls (in-process builds only)."""
    calls, real = [], fc.decode_image

    def decode(*args):
        calls.append(args[0])
        return real(*args)

    monkeypatch.setattr(fc, "decode_image", decode)
    return calls


def open_quietly(root, size=8, color="gray"):
    with pytest.warns(UserWarning, match="skipped 1"):
        return fc.folder_images(root, size, color)


def test_decodes_uint8_pixels_and_labels_and_warns(tmp_path, cache):
    expected, labels = labelled_folder(tmp_path / "data")
    images, got_labels, fingerprint = open_quietly(tmp_path / "data")
    assert images.dtype == np.uint8 and isinstance(images, np.memmap)
    np.testing.assert_array_equal(images, expected)
    assert got_labels == labels and fingerprint
    assert len(list(cache.glob("*.npy"))) == 1 and len(list(cache.glob("*.json"))) == 1


def test_flat_rgb_folder_is_unlabelled_channels_first(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, (3, 6, 6, 3), dtype=np.uint8)
    for i, p in enumerate(pixels):
        _write(tmp_path / f"{i}.png", p)
    images, labels, _ = fc.folder_images(tmp_path, 6, "rgb")
    np.testing.assert_array_equal(images, pixels.transpose(0, 3, 1, 2))
    assert labels is None


def test_second_open_does_not_decode(tmp_path, monkeypatch):
    labelled_folder(tmp_path / "data")
    first, labels, fingerprint = open_quietly(tmp_path / "data")
    first = np.array(first)

    def refuse(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(fc, "decode_image", refuse)
    again, labels_again, fingerprint_again = open_quietly(tmp_path / "data")
    np.testing.assert_array_equal(again, first)
    assert (labels_again, fingerprint_again) == (labels, fingerprint)


def test_load_dataset_uses_the_cache_fingerprint(tmp_path):
    labelled_folder(tmp_path / "data")
    with pytest.warns(UserWarning, match="skipped 1"):
        ds = load_dataset(f"folder:{tmp_path / 'data'}", image_size=8)
    _, _, fingerprint = open_quietly(tmp_path / "data")
    assert ds.fingerprint == fingerprint and ds.pixels.dtype == torch.uint8
    assert ds.class_names == ["cats", "dogs"] and len(ds) == 6


@pytest.mark.parametrize("change", ["modify", "add", "remove"])
def test_a_changed_folder_is_rebuilt_and_the_old_cache_removed(tmp_path, cache, change):
    expected, labels = labelled_folder(tmp_path / "data")
    _, _, old = open_quietly(tmp_path / "data")
    target = tmp_path / "data" / "cats" / "00000.png"
    if change == "remove":
        target.unlink()
        expected, labels = expected[1:], labels[1:]
    else:
        if change == "add":
            target = tmp_path / "data" / "cats" / "00003.png"
            expected = np.concatenate([expected[:3], expected[:1], expected[3:]])
            labels = labels[:3] + ["cats"] + labels[3:]
        new = np.full((8, 8), 7, np.uint8)
        _write(target, new)
        os.utime(target, ns=(time.time_ns() + 10**9,) * 2)  # a later mtime even on coarse file systems
        expected[3 if change == "add" else 0] = new[None]
    images, got_labels, fingerprint = open_quietly(tmp_path / "data")
    assert fingerprint != old
    np.testing.assert_array_equal(images, expected)
    assert got_labels == labels
    assert len(list(cache.glob("*.npy"))) == 1 and len(list(cache.glob("*.json"))) == 1


def _damage(cache: Path, how: str) -> None:
    npy, meta = next(cache.glob("*.npy")), next(cache.glob("*.json"))
    if how == "truncated":
        os.truncate(npy, npy.stat().st_size - 10)
    elif how == "garbage":
        npy.write_bytes(b"garbage" * 100)
    elif how == "longer":
        with open(npy, "ab") as f:
            f.write(b"\0" * 64)
    elif how == "no json":
        meta.unlink()
    elif how == "no npy":
        npy.unlink()
    elif how == "wrong shape":
        record = json.loads(meta.read_text())
        record["shape"][0] += 1
        meta.write_text(json.dumps(record))


@pytest.mark.parametrize("how", ["truncated", "garbage", "longer", "no json", "no npy", "wrong shape"])
def test_a_damaged_cache_is_rebuilt(tmp_path, cache, monkeypatch, how):
    expected, labels = labelled_folder(tmp_path / "data")
    open_quietly(tmp_path / "data")
    _damage(cache, how)
    calls = counting_decoder(monkeypatch)
    images, got_labels, _ = open_quietly(tmp_path / "data")
    assert len(calls) == 7  # every file decoded again
    np.testing.assert_array_equal(images, expected)
    assert got_labels == labels


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_dead_runs_temp_file_is_removed_and_never_trusted(tmp_path, cache):
    expected, _ = labelled_folder(tmp_path / "data")
    open_quietly(tmp_path / "data")
    npy = next(cache.glob("*.npy"))
    for p in cache.glob("*"):
        p.unlink()
    dead = cache / f".{npy.stem}.npy.tmp-{_dead_pid()}-1"  # what a killed build leaves: wrong pixels here
    with open(dead, "wb") as f:
        np.save(f, np.zeros_like(expected))
    live = cache / f".other.npy.tmp-{os.getpid()}-1"  # a live build's file is left alone
    live.write_bytes(b"")
    images, _, _ = open_quietly(tmp_path / "data")
    np.testing.assert_array_equal(images, expected)
    assert not dead.exists() and live.exists()


def test_the_process_pool_path_matches_in_process(tmp_path, cache, monkeypatch):
    expected, labels = labelled_folder(tmp_path / "data", per_class=5)
    monkeypatch.setattr(fc, "PARALLEL_MIN", 1)
    monkeypatch.setattr(fc, "CHUNK", 3)
    seen = []
    with pytest.warns(UserWarning, match="skipped 1"):
        images, got_labels, _ = fc.folder_images(
            tmp_path / "data", 8, "gray", progress=lambda d, t: seen.append((d, t)))
    np.testing.assert_array_equal(images, expected)
    assert got_labels == labels
    assert seen == [(3, 11), (6, 11), (9, 11), (11, 11)]


KILLED_BUILD = """
import sys, time, types
from pathlib import Path
# the cache module alone, without explorer.datasets' __init__ (which imports torch: seconds on a busy machine)
package = types.ModuleType("explorer.datasets")
package.__path__ = [str(Path(sys.argv[2]) / "explorer" / "datasets")]
sys.modules["explorer.datasets"] = package
import explorer.datasets.folder_cache as fc
real = fc.decode_image
def slow(*args):  # inherited by the forked workers: keeps the build running long enough to kill
    time.sleep(0.002)
    return real(*args)
fc.decode_image = slow
fc.folder_images(Path(sys.argv[1]), 8, "gray")
"""


def test_kill_9_mid_build_leaves_nothing_trusted(tmp_path, cache):
    expected, labels = labelled_folder(tmp_path / "data", per_class=1500)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(tmp_path / "data"), str(ROOT)], env=env,
                            start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(cache.glob(f".*.tmp-{proc.pid}-*")):
            assert proc.poll() is None and time.monotonic() < deadline, "the build never started"
            time.sleep(0.005)
        time.sleep(0.3)
        assert proc.poll() is None, "the build finished before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its pool workers
        proc.wait()
    assert list(cache.glob(f".*.tmp-{proc.pid}-*")), "the killed build left its temporary file"
    assert not list(cache.glob("*.json")) and not list(cache.glob("*.npy"))
    images, got_labels, _ = open_quietly(tmp_path / "data")
    np.testing.assert_array_equal(images, expected)
    assert got_labels == labels
    assert not list(cache.glob(".*.tmp-*"))
