"""A user's upload or drawing becomes an image shaped, scaled and coloured like the dataset's."""

import io

import numpy as np
import pytest
from PIL import Image

from explorer.errors import ExplorerError
from explorer.query_image import DataStyle, data_style, from_canvas, from_upload


def png(arr: np.ndarray, mode: str | None = None) -> bytes:
    """uint8 (H, W[, C]) -> PNG bytes."""
    buf = io.BytesIO()
    img = Image.fromarray(arr)
    (img.convert(mode) if mode else img).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def style(mnist5k) -> DataStyle:
    return data_style(mnist5k.images)


@pytest.fixture(scope="module")
def digit(mnist5k) -> np.ndarray:
    return mnist5k.images[7, 0].numpy()  # (28, 28) white digit on black


def test_data_style_measures_mnist(style, digits):
    assert (style.channels, style.height, style.width) == (1, 28, 28)
    assert style.background == 0.0  # white digits on black
    assert 0.6 < style.ink_extent < 0.8  # MNIST scales each digit's long side to 20 of 28 pixels
    assert style.ink_center == pytest.approx((14, 14), abs=0.5)  # centred by mass, at pixel 14
    small = data_style(digits.images)
    assert (small.height, small.background) == (8, 0.0) and small.ink_extent > 0.8


def test_a_dataset_image_comes_back_unchanged(style, digit):
    data = png((digit * 255).round().astype(np.uint8))
    plain = from_upload(data, style, center=False)
    assert plain.image.shape == (1, 28, 28) and plain.notes == []
    np.testing.assert_allclose(plain.image[0].numpy(), digit, atol=0.5 / 255)
    centred = from_upload(data, style, center=True)  # already MNIST-normalised: centring changes nothing
    np.testing.assert_allclose(centred.image[0].numpy(), digit, atol=0.5 / 255)


def test_a_photo_of_a_dark_digit_on_paper_is_inverted_centred_and_resized(style, digit):
    # a large, off-centre, grey-pencil digit on a white page, saved as a colour JPEG
    page = np.full((300, 400), 235, np.uint8)
    stroke = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize((160, 160), Image.BILINEAR))
    page[20:180, 220:380] = np.minimum(page[20:180, 220:380], 235 - (stroke * 0.6).astype(np.uint8))
    buf = io.BytesIO()
    Image.fromarray(page).convert("RGB").save(buf, "JPEG", quality=90)
    query = from_upload(buf.getvalue(), style, "photo.jpg")
    x = query.image[0].numpy()
    assert query.image.shape == (1, 28, 28) and 0 <= x.min() and x.max() <= 1
    text = " ".join(query.notes)
    assert "Inverted" in text and "Resized from 400×300" in text and "centred" in text
    assert np.median(np.concatenate([x[0], x[-1], x[:, 0], x[:, -1]])) < 0.05  # black background now
    assert x.max() > 0.9  # strokes stretched to full white, as in the data
    assert np.corrcoef(x.ravel(), digit.ravel())[0, 1] > 0.8  # and it is the same digit in the same place


def test_colour_and_transparency(style, digit):
    # black strokes on a transparent background: composited onto white, then inverted
    rgba = np.zeros((56, 56, 4), np.uint8)
    big = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize((56, 56)))
    rgba[..., 3] = big
    query = from_upload(png(rgba), style, center=False)
    assert np.corrcoef(query.image[0].numpy().ravel(), digit.ravel())[0, 1] > 0.9
    # a red digit on black: converted to grayscale and the user told so
    red = np.zeros((28, 28, 3), np.uint8)
    red[..., 0] = (digit * 255).astype(np.uint8)
    query = from_upload(png(red), style, center=False)
    assert any("grayscale" in n for n in query.notes)
    np.testing.assert_allclose(query.image[0].numpy(), digit * 0.299, atol=2 / 255)


def test_grayscale_upload_for_a_colour_dataset_and_aspect_ratio_kept():
    photo_style = DataStyle(3, 32, 32, None, 1.0, (15.5, 15.5))  # CIFAR-like: no consistent background
    wide = np.zeros((32, 64), np.uint8)
    wide[:, :32] = 200  # left half light, right half dark
    query = from_upload(png(wide), photo_style, center=True)  # centring does not apply to photos
    x = query.image.numpy()
    assert x.shape == (3, 32, 32)
    np.testing.assert_array_equal(x[0], x[1])
    assert any("three channels" in n for n in query.notes)
    assert any("Resized from 64×32" in n for n in query.notes)
    # padded to square before resizing: the image occupies the middle half of the rows
    assert abs(x[0, 16, 4] - 200 / 255) < 0.05 and x[0, 16, 28] < 0.05


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    (b"this is not an image at all", "not a readable image"),
    # cut short
    (png(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8))[:2000], "not a readable image"),
])
def test_bad_files_raise_one_clear_error(style, data, message):
    with pytest.raises(ExplorerError, match=message):
        from_upload(data, style, "upload.png")


def test_a_blank_image_is_rejected(style):
    with pytest.raises(ExplorerError, match="blank"):
        from_upload(png(np.full((28, 28), 128, np.uint8)), style)


def test_canvas_drawings(style, digit):
    # white strokes on the black background the page's canvas uses, 8x the data's size
    big = np.asarray(Image.fromarray((digit * 255).astype(np.uint8)).resize((224, 224), Image.BILINEAR))
    rgba = np.dstack([big, big, big, np.full_like(big, 255)])
    query = from_canvas(rgba, style)
    x = query.image[0].numpy()
    assert x.shape == (28, 28) and np.corrcoef(x.ravel(), digit.ravel())[0, 1] > 0.9
    assert not any(n.startswith("Resized") for n in query.notes)
    # black strokes on a transparent canvas: the same digit
    transparent = np.dstack([np.zeros_like(big)] * 3 + [big])
    y = from_canvas(transparent, style).image[0].numpy()
    np.testing.assert_allclose(y, x, atol=0.05)


@pytest.mark.parametrize("rgba", [None, np.zeros((200, 200, 4), np.uint8),
                                  np.dstack([np.zeros((200, 200, 3), np.uint8), np.full((200, 200), 255, np.uint8)])])
def test_an_empty_canvas_is_rejected(style, rgba):
    with pytest.raises(ExplorerError, match="canvas is empty"):
        from_canvas(rgba, style)
