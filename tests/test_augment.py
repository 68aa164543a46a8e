"""Mirror-image augmentation: switched on only for data that look alike in a mirror."""

import pytest
import torch

from explorer.augment import looks_alike_in_a_mirror, random_flip
from explorer.datasets import load_dataset


def _halves(dataset):
    fit_idx, val_idx = dataset.validation_split()
    return dataset.images[fit_idx], dataset.images[val_idx]


def test_digits_are_not_mirror_images(mnist5k, digits):
    assert not looks_alike_in_a_mirror(*_halves(mnist5k))
    assert not looks_alike_in_a_mirror(*_halves(digits))


@pytest.mark.parametrize("kind,color", [("shapes", "gray"), ("photos", "rgb"), ("glyphs", "gray")])
def test_generated_folders(kind, color, tmp_path):
    from explorer.datasets.generated import write_folder

    folder = write_folder(kind, tmp_path / kind, n=600)
    dataset = load_dataset(f"folder:{folder}", image_size=32 if kind == "photos" else 28, color=color)
    assert looks_alike_in_a_mirror(*_halves(dataset)) == (kind != "glyphs")  # a mirrored 7 is no glyph


def test_a_mirrored_copy_of_the_data_passes(mnist5k):
    x_fit, x_val = _halves(mnist5k)
    both = torch.cat([x_fit, x_fit.flip(-1)])  # symmetric by construction
    assert looks_alike_in_a_mirror(both, torch.cat([x_val, x_val.flip(-1)]))


def test_random_flip_mirrors_about_half_and_nothing_else():
    x = torch.rand(400, 3, 4, 5)
    y = random_flip(x, torch.Generator().manual_seed(0))
    flipped = torch.tensor([torch.equal(a, b.flip(-1)) for a, b in zip(x, y)])
    kept = torch.tensor([torch.equal(a, b) for a, b in zip(x, y)])
    assert bool((flipped | kept).all()) and 150 < int(flipped.sum()) < 250
