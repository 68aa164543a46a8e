"""Every dataset: shape, range, split determinism, bad input."""

import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.datasets import load_dataset
from explorer.datasets.sprites import (
    FACTOR_NAMES,
    FACTOR_VALUES,
    SHAPES,
    canonical,
    distinct_factors,
    distinct_sprites,
    image_keys,
    load_sprites,
    render,
    sample_factors,
    symmetric_copies,
)
from explorer.errors import ExplorerError


def check_common(ds, shape, n):
    assert ds.images[:].dtype == torch.float32
    assert tuple(ds.images[:].shape) == (n, *shape)
    assert 0.0 <= float(ds.images[:].min()) and float(ds.images[:].max()) <= 1.0
    assert len(np.intersect1d(ds.train_idx, ds.test_idx)) == 0
    assert len(ds.train_idx) + len(ds.test_idx) == n


def test_mnist5k_is_the_real_digits(mnist5k):
    check_common(mnist5k, (1, 28, 28), 5000)
    assert (len(mnist5k.train_idx), len(mnist5k.test_idx)) == (4000, 1000)
    assert np.bincount(mnist5k.y_test).min() >= 90  # stratified: every digit held out ~100 times
    assert mnist5k.class_names == [str(d) for d in range(10)]
    assert 0.1 < float(mnist5k.images[:].mean()) < 0.2  # real digits: mostly black background


def test_split_is_deterministic(mnist5k):
    again = load_dataset("mnist5k")
    assert np.array_equal(again.test_idx, mnist5k.test_idx)
    assert torch.equal(again.pixels, mnist5k.pixels)


def test_digits(digits):
    check_common(digits, (1, 8, 8), 1797)
    assert set(np.unique(digits.labels)) == set(range(10))


def test_sprites_factors_and_determinism():
    a, b = load_sprites(n=200, size=32, seed=3), load_sprites(n=200, size=32, seed=3)
    check_common(a, (1, 32, 32), 200)
    assert torch.equal(a.pixels, b.pixels)
    assert set(a.factors) == set(FACTOR_NAMES) and all(len(v) == 200 for v in a.factors.values())
    assert a.class_names == SHAPES and np.array_equal(a.labels, a.factors["shape"].astype(int))


def test_sprites_pose_matches_factors():
    """The image centroid follows the x / y factors and the area follows scale."""
    f = {"shape": np.zeros(3), "scale": np.array([0.5, 1.0, 1.0]), "rotation": np.zeros(3),
         "x": np.array([0.0, 0.0, 1.0]), "y": np.array([1.0, 1.0, 0.0])}
    img = render({k: np.asarray(v, dtype=np.float32) for k, v in f.items()}, size=64)[:, 0]
    cols = (img.sum(1) * np.arange(64)).sum(1) / img.sum((1, 2))
    rows = (img.sum(2) * np.arange(64)).sum(1) / img.sum((1, 2))
    assert cols[2] - cols[1] > 30 and rows[1] - rows[2] > 30  # x moves right, y moves down
    assert img[1].sum() / img[0].sum() == pytest.approx(4.0, rel=0.1)  # area ~ scale^2


def test_sprites_64():
    ds = load_sprites(n=300, size=64)
    check_common(ds, (1, 64, 64), 300)


def test_no_held_out_sprite_is_a_training_sprite():
    """Drawn with replacement, 5.9 % of held-out sprites were pixel for pixel a training sprite."""
    ds = load_dataset("sprites")
    keys = image_keys(ds.pixels.numpy())
    assert len(set(keys)) == len(ds)  # no image twice, so none on both sides of the split
    train, test = {keys[i] for i in ds.train_idx}, {keys[i] for i in ds.test_idx}
    assert not train & test and len(test) == len(ds.test_idx) == 2000
    assert np.bincount(ds.labels).min() > 2300  # shapes still drawn uniformly


def _one_pose(shape: str, rotations) -> dict[str, np.ndarray]:
    n = len(rotations)
    return {"shape": np.full(n, SHAPES.index(shape), np.float32), "scale": np.full(n, 0.8, np.float32),
            "rotation": FACTOR_VALUES["rotation"][np.asarray(rotations)], "x": np.full(n, 0.4, np.float32),
            "y": np.full(n, 0.6, np.float32)}


def test_rotations_are_canonical_for_each_shapes_symmetry():
    steps = np.arange(40)
    for shape, period in (("square", 10), ("ellipse", 20)):  # 90 and 180 degrees on the 40-step grid
        img = render(_one_pose(shape, steps), 32)
        assert all(np.array_equal(img[i], img[(i + period) % 40]) for i in steps), shape
        assert not np.array_equal(img[0], img[period // 2])  # half a period is another image
        rot = canonical(_one_pose(shape, steps))["rotation"]
        assert np.array_equal(rot, FACTOR_VALUES["rotation"][steps % period])
        copies = np.round(symmetric_copies(_one_pose(shape, [period - 1]))["rotation"] / FACTOR_VALUES["rotation"][1])
        assert sorted(copies.astype(int)) == list(range(period - 1, 40, period))
    for shape in ("heart", "triangle"):  # the heart has no rotational symmetry; the triangle's 120 degrees is off grid
        img = render(_one_pose(shape, steps), 32)
        assert len(set(image_keys(img))) == 40, shape
        assert np.array_equal(canonical(_one_pose(shape, steps))["rotation"], FACTOR_VALUES["rotation"])
    f = distinct_factors(2000, seed=1)
    step = np.round(f["rotation"] / FACTOR_VALUES["rotation"][1]).astype(int)
    for shape, period in (("square", 10), ("ellipse", 20), ("heart", 40)):
        assert step[f["shape"] == SHAPES.index(shape)].max() == period - 1  # canonical: the first period only


def test_distinct_factors_exclude_and_run_out():
    train = distinct_factors(3000, seed=0, shape="ellipse")
    step = np.round(train["rotation"] / FACTOR_VALUES["rotation"][1]).astype(int)
    turned = {**train, "rotation": FACTOR_VALUES["rotation"][(step + 20) % 40]}  # the same ellipses, named otherwise
    test = distinct_factors(3000, seed=1, exclude=turned, shape="ellipse")
    train_keys, test_keys = set(image_keys(render(train, 32))), set(image_keys(render(test, 32)))
    assert len(train_keys) == len(test_keys) == 3000 and not train_keys & test_keys
    assert len(distinct_factors(27720, seed=2, exclude=train, shape="ellipse")["x"]) == 27720  # 30,720 - 3,000
    with pytest.raises(ExplorerError, match="only 27,720 unused ellipse"):
        distinct_factors(27721, seed=2, exclude=train, shape="ellipse")


def test_distinct_sprites_redraws_an_image_already_seen():
    factors, images = distinct_sprites(5, 32, seed=7)
    seen = set(image_keys(images))
    again, fresh = distinct_sprites(5, 32, seed=7, seen=seen)  # the same draw: every image is redrawn
    assert not set(image_keys(fresh)) & set(image_keys(images)) and len(seen) == 10
    assert np.array_equal(render(again, 32), fresh)


def test_every_shape_renders_distinctly():
    f = sample_factors(4, seed=0)
    f["shape"] = np.arange(4, dtype=np.float32)
    f.update(scale=np.ones(4, np.float32), rotation=np.zeros(4, np.float32), x=np.full(4, 0.5, np.float32),
             y=np.full(4, 0.5, np.float32))
    img = render(f, 32)
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.abs(img[i] - img[j]).sum() > 5


def _write_idx(path, array):
    """The IDX format torchvision's MNIST reader expects (magic, dims, big-endian, uint8)."""
    dims = array.shape
    with open(path, "wb") as f:
        f.write(struct.pack(">HBB", 0, 0x08, len(dims)))
        f.write(struct.pack(">" + "I" * len(dims), *dims))
        f.write(array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST"), ("kmnist", "KMNIST")])
def test_mnist_family_reads_real_idx_files(tmp_path, mnist5k, name, folder):
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    x = (mnist5k.images[:30, 0].numpy() * 255).round()
    y = mnist5k.labels[:30]
    _write_idx(raw / "train-images-idx3-ubyte", x[:20])
    _write_idx(raw / "train-labels-idx1-ubyte", y[:20])
    _write_idx(raw / "t10k-images-idx3-ubyte", x[20:])
    _write_idx(raw / "t10k-labels-idx1-ubyte", y[20:])
    ds = load_dataset(name, data_root=tmp_path)
    check_common(ds, (1, 28, 28), 30)
    assert list(ds.test_idx) == list(range(20, 30))  # the official test split is the held-out one
    assert np.array_equal(ds.labels, y)
    assert torch.allclose(ds.images[:, 0], torch.from_numpy(x / 255).float(), atol=1e-6)


def test_cifar10_reads_real_pickle_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]
    for name in names:
        data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({"data": data, "labels": list(rng.integers(0, 10, 4))}, f)
    with open(folder / "batches.meta", "wb") as f:
        names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
        pickle.dump({"label_names": names}, f)
    ds = load_dataset("cifar10", data_root=tmp_path)
    check_common(ds, (3, 32, 32), 24)
    assert len(ds.test_idx) == 4 and ds.class_names[0] == "airplane"


def test_missing_torchvision_files_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setattr("explorer.datasets.torchvision_sets._try_download", lambda cls, root: None)
    with pytest.raises(ExplorerError, match=r"put train-images-idx3-ubyte.*MNIST/raw"):
        load_dataset("mnist", data_root=tmp_path)


def test_corrupt_idx_file_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("explorer.datasets.torchvision_sets._try_download", lambda cls, root: None)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]:
        (raw / f).write_bytes(b"garbage")
    with pytest.raises(ExplorerError, match="could not read"):
        load_dataset("mnist", data_root=tmp_path)


def _png(path, value, size=(10, 12), mode="L"):
    Image.new(mode, size, value).save(path)


def test_folder_with_labels_and_a_corrupt_file(tmp_path):
    for label in ("cats", "dogs"):
        (tmp_path / label).mkdir()
        for i in range(3):
            _png(tmp_path / label / f"{i}.png", 40 * i)
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="skipped 1"):
        ds = load_dataset(f"folder:{tmp_path}", image_size=16)
    check_common(ds, (1, 16, 16), 6)
    assert ds.class_names == ["cats", "dogs"]


def test_flat_folder_rgb_is_unlabelled(tmp_path):
    for i in range(5):
        _png(tmp_path / f"{i}.jpg", (255, 0, 0), mode="RGB")
    ds = load_dataset(f"folder:{tmp_path}", image_size=8, color="rgb")
    check_common(ds, (3, 8, 8), 5)
    assert ds.labels is None
    assert float(ds.images[:, 0].mean()) > 0.95 and float(ds.images[:, 1].mean()) < 0.05


def test_npz_arrays(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (20, 9, 9), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", x=x, y=np.array(["a", "b"] * 10))
    ds = load_dataset(f"folder:{tmp_path / 'a.npz'}")
    check_common(ds, (1, 9, 9), 20)
    assert ds.class_names == ["a", "b"]
    np.save(tmp_path / "b.npy", x.astype(np.float32) / 255)
    assert load_dataset(f"folder:{tmp_path / 'b.npy'}").labels is None


@pytest.mark.parametrize("array,message", [
    (np.zeros((4, 5)), "rank"),
    (np.full((4, 5, 5), np.nan), "NaN"),
    (np.full((4, 5, 5), -3.0), "span"),
    (np.zeros((0, 5, 5)), "no images"),
])
def test_bad_arrays_are_one_line_errors(tmp_path, array, message):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(ExplorerError, match=message) as err:
        load_dataset(f"folder:{tmp_path / 'bad.npy'}")
    assert "\n" not in str(err.value)


def test_empty_folder_and_missing_path(tmp_path):
    with pytest.raises(ExplorerError, match="no readable images"):
        load_dataset(f"folder:{tmp_path}")
    with pytest.raises(ExplorerError, match="no such file"):
        load_dataset(f"folder:{tmp_path / 'nope'}")
    with pytest.raises(ExplorerError, match="unknown dataset"):
        load_dataset("imagenet")
