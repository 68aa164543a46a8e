"""The out-of-distribution gauge: percentiles of held-out errors, the flag at the 99th percentile (about 1 % of
held-out digits, most photo crops), and where a query lands on the model's map and on PCA's."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.checkpoints import checkpoint_root, load_checkpoint
from explorer.codes import codes_for
from explorer.errors import ExplorerError
from explorer.evaluate import reconstruction_errors
from explorer.ood import ErrorReference, error_percentile, held_out_reference, measure, verdict
from explorer.project import project
from explorer.query_image import data_style, from_upload


def test_percentile_is_the_share_at_or_below_in_0_to_100():
    ref = np.array([4.0, 1.0, 3.0, 2.0])
    assert error_percentile(ref, [0.5, 1.0, 2.5, 4.0, 9.0]).tolist() == [0.0, 25.0, 50.0, 100.0, 100.0]
    reference = ErrorReference(np.sort(np.arange(1.0, 101.0)), 100)
    assert reference.threshold == pytest.approx(99.01)
    assert reference.flagged([99.0, 99.5, 100.0]).tolist() == [False, True, True]
    with pytest.raises(ExplorerError, match="no held-out errors"):
        error_percentile(np.zeros(0), [1.0])


@pytest.fixture(scope="module")
def conv_ae(mnist5k):
    path = checkpoint_root() / "mnist5k" / "conv-ae-d16"
    return load_checkpoint(path, mnist5k.image_shape)[0], path


def png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((np.clip(gray, 0, 1) * 255).round().astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def photo_crops(n: int, seed: int = 0) -> list[bytes]:
    """Crops of scikit-image's bundled photographs (no download), as PNG files a user might upload."""
    from explorer.datasets.generated import load_photos

    rng = np.random.default_rng(seed)
    photos = list(load_photos().values())
    out = []
    for _ in range(n):
        img = photos[rng.integers(len(photos))]
        side = int(min(img.shape[:2]) * rng.uniform(1 / 8, 1 / 2))
        y, x = rng.integers(0, img.shape[0] - side + 1), rng.integers(0, img.shape[1] - side + 1)
        buf = io.BytesIO()
        Image.fromarray(img[y : y + side, x : x + side]).save(buf, "PNG")
        out.append(buf.getvalue())
    return out


def test_held_out_digits_are_flagged_about_one_percent_and_photo_crops_mostly(mnist5k, conv_ae):
    model, _ = conv_ae
    reference = held_out_reference(model, mnist5k, rows=mnist5k.test_idx[::2])  # 500 held-out digits
    assert len(reference.errors) == 500 and reference.n_held_out == 1000
    style = data_style(mnist5k.images)
    # the other 500 held-out digits, uploaded as PNG files (as the Similar page receives them)
    digits = torch.stack([from_upload(png(mnist5k.images[i, 0].numpy()), style).image for i in mnist5k.test_idx[1::2]])
    digit_rate = reference.flagged(reconstruction_errors(model, digits)).mean()
    assert digit_rate <= 0.03, digit_rate  # measured 0.010
    photos = torch.stack([from_upload(data, style).image for data in photo_crops(200)])
    photo_rate = reference.flagged(reconstruction_errors(model, photos)).mean()
    assert photo_rate >= 0.6, photo_rate  # measured 0.79 (0.96 for crops not cropped and centred)
    percentiles = reference.percentile(reconstruction_errors(model, digits))
    assert percentiles.min() >= 0 and percentiles.max() <= 100 and 35 < np.median(percentiles) < 65


def test_the_query_lands_where_its_own_image_is_on_both_maps(mnist5k, conv_ae):
    model, path = conv_ae
    pca_path = path.parent / "pca-d16"
    pca = load_checkpoint(pca_path, mnist5k.image_shape)[0]
    codes = np.asarray(codes_for(path, model, mnist5k))
    pca_codes = np.asarray(codes_for(pca_path, pca, mnist5k))
    reference, pca_reference = held_out_reference(model, mnist5k), held_out_reference(pca, mnist5k)
    row = int(mnist5k.test_idx[5])
    for method in ("pca", "umap"):  # exact for a linear map; nearest-code interpolation for UMAP
        proj = project(codes, method, path)
        g = measure(mnist5k.images[row], model, reference, proj, pca, pca_reference)
        assert np.allclose(g.spot, proj.points_[row], atol=1e-3)
    assert np.allclose(g.pca_spot, pca_codes[row, :2], atol=1e-3)  # PCA's own map: its first two components
    own = float(reconstruction_errors(model, mnist5k.images[row : row + 1])[0])
    assert g.error == pytest.approx(own, rel=1e-5)
    assert 0 <= g.percentile <= 100 and 0 <= g.pca_percentile <= 100
    assert g.percentile == pytest.approx(100 * np.mean(reference.errors <= own))
    assert not g.flagged and verdict(g, "conv-ae", reference) is None
    blank = torch.ones(1, 28, 28)  # a white square: nothing like a digit
    g = measure(blank, model, reference, project(codes, "pca", path))
    assert g.flagged and g.percentile == 100.0 and "cannot represent this image" in verdict(g, "conv-ae", reference)
    assert g.pca_spot is None
