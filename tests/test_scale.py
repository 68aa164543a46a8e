"""Data at scale: uint8 storage read per batch, batched PCA and evaluation, stored codes, torchrun / DDP."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from explorer import metrics
from explorer.codes import CODES, STAMP, codes_for, read_codes, store_codes
from explorer.datasets import load_dataset
from explorer.datasets.images import Images
from explorer.evaluate import encode_all, evaluate_model, reconstruct
from explorer.models import ModelConfig, build_model
from explorer.models import pca as pca_module
from explorer.pipeline import train_checkpoint
from explorer.train import TrainConfig, fit

ROOT = Path(__file__).resolve().parents[1]


def test_eight_bit_sources_stay_eight_bit(mnist5k, tmp_path):
    assert mnist5k.pixels.dtype == torch.uint8
    assert mnist5k.images[:3].dtype == torch.float32 and float(mnist5k.images[:].max()) == 1.0
    x = np.random.default_rng(0).integers(0, 256, (50, 12, 12, 3), dtype=np.uint8)  # N, H, W, C
    np.savez(tmp_path / "a.npz", x=x, y=np.arange(50) % 2)
    np.save(tmp_path / "a.npy", x)
    for name in ("a.npz", "a.npy"):
        ds = load_dataset(f"folder:{tmp_path / name}")
        assert ds.pixels.dtype == torch.uint8 and ds.image_shape == (3, 12, 12)
        np.testing.assert_array_equal(ds.pixels.numpy(), x.transpose(0, 3, 1, 2))
        np.testing.assert_allclose(ds.images[4].numpy(), x[4].transpose(2, 0, 1) / 255, atol=1e-7)


def test_an_npy_is_memory_mapped_and_never_written(tmp_path):
    x = np.arange(40 * 16, dtype=np.uint8).reshape(40, 1, 4, 4)
    np.save(tmp_path / "x.npy", x)
    before = (tmp_path / "x.npy").read_bytes()
    ds = load_dataset(f"folder:{tmp_path / 'x.npy'}")
    ds.pixels[0] = 7  # copy-on-write: this process's view changes, the file does not
    assert (tmp_path / "x.npy").read_bytes() == before


def test_fingerprint_follows_the_file(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros((20, 8, 8), np.uint8))
    first = load_dataset(f"folder:{path}").fingerprint
    np.save(path, np.ones((20, 8, 8), np.uint8))
    os.utime(path, ns=(1, 1))
    assert load_dataset(f"folder:{path}").fingerprint != first


def test_a_view_gathers_rows_and_converts_per_batch(mnist5k):
    view = mnist5k.images.take(mnist5k.test_idx).take(np.arange(10, 20))
    rows = mnist5k.test_idx[10:20]
    assert len(view) == 10 and view.shape == (10, 1, 28, 28)
    assert view.raw().dtype == torch.uint8
    torch.testing.assert_close(view[:], mnist5k.pixels[rows].float() / 255)
    batches = list(view.batches(4))
    assert [len(b) for b in batches] == [4, 4, 2] and all(b.dtype == torch.float32 for b in batches)
    torch.testing.assert_close(torch.cat(batches), view[:])


def test_batched_pca_is_scikit_learns_pca(mnist5k):
    flat = mnist5k.x_train.flatten(1).double().numpy()
    ref = PCA(12, random_state=0).fit(flat)
    train_images = mnist5k.images.take(mnist5k.train_idx)
    ours = build_model(ModelConfig("pca", mnist5k.image_shape, 12)).fit(train_images, batch_size=700)
    assert np.degrees(subspace_angles(ours.components_.numpy().T, ref.components_.T)).max() < 0.5
    np.testing.assert_allclose(ours.explained_variance_ratio_.numpy(), ref.explained_variance_ratio_, rtol=1e-4)
    np.testing.assert_allclose(ours.mean_.numpy(), ref.mean_, atol=1e-6)
    first = ours.components_[0].numpy()
    assert first[np.abs(first).argmax()] > 0  # scikit-learn's sign convention


def test_randomized_pca_above_the_exact_size_finds_the_same_subspace(mnist5k, monkeypatch):
    monkeypatch.setattr(pca_module, "EXACT_MAX_PIXELS", 100)  # 784 pixels: take the randomized path
    ref = PCA(8, random_state=0).fit(mnist5k.x_train.flatten(1).double().numpy())
    ours = build_model(ModelConfig("pca", mnist5k.image_shape, 8)).fit(mnist5k.images.take(mnist5k.train_idx))
    assert np.degrees(subspace_angles(ours.components_.numpy().T, ref.components_.T)).max() < 2
    np.testing.assert_allclose(ours.explained_variance_ratio_.sum(), ref.explained_variance_ratio_.sum(), rtol=1e-3)


def test_pca_code_size_beyond_the_data_leaves_zero_rows():
    x = torch.rand(5, 1, 4, 4)
    model = build_model(ModelConfig("pca", (1, 4, 4), 8)).fit(x)
    assert model.components_[5:].abs().sum() == 0
    torch.testing.assert_close(model.decode(model.encode(x)), x, atol=1e-5, rtol=0)  # 5 images: rank 4, exact


def test_batched_evaluation_equals_the_whole_set_at_once(digits):
    model = build_model(ModelConfig("pca", digits.image_shape, 6)).fit(digits.x_train)
    got = evaluate_model(model, digits)
    x = digits.x_test
    assert got["recon_sse"] == pytest.approx(metrics.recon_sse(reconstruct(model, x), x), rel=1e-5)
    z_train, z_test = encode_all(model, digits.x_train), encode_all(model, x)
    assert got["knn_acc"] == pytest.approx(metrics.knn_accuracy(z_train, digits.y_train, z_test, digits.y_test))


def test_training_reads_a_memory_mapped_uint8_view(tmp_path, digits):
    x = (digits.images[:] * 255).round().to(torch.uint8).numpy()
    np.save(tmp_path / "d.npy", x)
    ds = load_dataset(f"folder:{tmp_path / 'd.npy'}")
    fit_idx, val_idx = ds.validation_split()
    model = build_model(ModelConfig("mlp-ae", ds.image_shape, 4, loss="gaussian"))
    result = fit(model, ds.images.take(fit_idx), ds.images.take(val_idx), TrainConfig(steps=300))
    assert result.history[-1].val_loss < 0.5 * result.history[0].val_loss


@pytest.fixture(scope="module")
def trained(tmp_path_factory, digits):
    out = tmp_path_factory.mktemp("ckpt") / "digits" / "linear-ae-d3"
    path, _, _ = train_checkpoint("digits", "linear-ae", 3, TrainConfig(steps=200), out=out, dataset=digits)
    return path


def test_training_stores_the_codes_of_every_image(trained, digits):
    from explorer.checkpoints import load_checkpoint

    model, _ = load_checkpoint(trained)
    codes = read_codes(trained, model, digits)
    assert codes is not None and codes.shape == (len(digits), 3)
    np.testing.assert_allclose(codes, encode_all(model, digits.images).numpy(), atol=1e-6)
    pca_dir = trained.parent / "pca-d3"
    assert (pca_dir / CODES).is_file() and (pca_dir / STAMP).is_file()


def test_stale_or_corrupt_codes_are_not_trusted(trained, digits, tmp_path):
    from explorer.checkpoints import load_checkpoint, save_checkpoint

    model, config = load_checkpoint(trained)
    other = load_dataset("digits")
    other.fingerprint = "digits, changed"
    assert read_codes(trained, model, other) is None  # other images
    copy = tmp_path / "copy"
    save_checkpoint(model, copy, {k: v for k, v in config.items() if k not in ("model", "versions")})
    store_codes(copy, model, digits)
    old = {name: (copy / name).read_bytes() for name in (CODES, STAMP)}
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    save_checkpoint(model, copy, {})  # new weights in the same folder ...
    for name, data in old.items():  # ... beside the old codes: stale
        (copy / name).write_bytes(data)
    assert read_codes(copy, model, digits) is None
    store_codes(copy, model, digits)
    (copy / CODES).write_bytes((copy / CODES).read_bytes()[:-40])  # truncated
    assert read_codes(copy, model, digits) is None
    codes = codes_for(copy, model, digits)  # rebuilt and stored
    np.testing.assert_allclose(codes, encode_all(model, digits.images).numpy(), atol=1e-6)
    assert read_codes(copy, model, digits) is not None
    assert not list(copy.glob(".codes.npy.tmp-*"))


def _torchrun(*args, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "-m", "explorer", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_two_gloo_processes_train_as_one_does(tmp_path):
    """DistributedDataParallel averages the gradients of the ranks' halves of each batch: the same
    optimisation as one process with the whole batch, so the held-out error lands within a few percent."""
    args = ["train", "--dataset", "digits", "--model", "mlp-ae", "--dim", "8", "--steps", "600"]
    single = subprocess.run([sys.executable, "-m", "explorer", *args, "--out", str(tmp_path / "one" / "mlp-ae-d8")],
                            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert single.returncode == 0, single.stderr
    proc = _torchrun(*args, "--out", str(tmp_path / "two" / "mlp-ae-d8"), cwd=ROOT)
    assert proc.stdout.count("saved ") == 1  # rank 0 alone reports and writes
    one, two = (json.loads((tmp_path / d / "mlp-ae-d8" / "config.json").read_text()) for d in ("one", "two"))
    assert two["train"]["distributed"] == {"world_size": 2, "backend": "gloo"}
    assert one["train"]["distributed"] == {"world_size": 1, "backend": None}
    assert two["metrics"]["recon_sse"] == pytest.approx(one["metrics"]["recon_sse"], rel=0.05)
    assert two["beats_pca"]
    assert not [p for p in (tmp_path / "two").iterdir() if p.name.startswith(".")]  # no temporary leftovers

    (tmp_path / "two" / "mlp-ae-d8" / CODES).unlink()  # embed under torchrun: each rank encodes its half
    _torchrun("embed", str(tmp_path / "two" / "mlp-ae-d8"), cwd=ROOT)
    from explorer.checkpoints import load_checkpoint

    model, _ = load_checkpoint(tmp_path / "two" / "mlp-ae-d8")
    digits = load_dataset("digits")
    np.testing.assert_allclose(read_codes(tmp_path / "two" / "mlp-ae-d8", model, digits),
                               encode_all(model, digits.images).numpy(), atol=1e-5)


def test_images_wraps_pairs_for_the_experiments():
    pairs = torch.rand(6, 2, 1, 4, 4)
    view = Images(pairs).take([5, 0])
    torch.testing.assert_close(view[:], pairs[[5, 0]])
