"""The user's own images with every default (only the code size given, plus colour and size for a colour
set) must beat PCA clearly on several kinds of generated folders: near-binary glyphs, smooth grey shapes
and colour photo crops. Held-out error at most 0.75x PCA's on the grayscale sets and 0.9x on the photo
crops, and a kNN accuracy that matches PCA's: not below it by more than one standard error of the
held-out estimate (sqrt(p (1 - p) / n), about 0.015 for 800 images)."""

import json
import math

import pytest
import torch

from explorer.cli import main
from explorer.datasets.generated import write_folder

CASES = {  # kind: (images, code size, extra CLI arguments, largest error ratio to PCA)
    "glyphs": (1500, 8, [], 0.75),
    "shapes": (1500, 8, [], 0.75),
    "photos": (4000, 16, ["--color", "rgb", "--image-size", "32"], 0.9),  # 2,000 reach about 0.9: README
}


@pytest.fixture
def two_threads():
    """These runs are the slow part of the suite; nothing else runs beside them."""
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("kind", CASES)
def test_defaults_beat_pca_on_generated_folders(kind, tmp_path, capsys, two_threads):
    n, dim, extra, bound = CASES[kind]
    folder = write_folder(kind, tmp_path / kind, n=n)
    sorted(folder.iterdir())[0].joinpath("corrupt.png").write_bytes(b"not a png")  # as real folders have
    out = tmp_path / "ckpt" / "conv-ae-d"
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        assert main(["train", "--dataset", f"folder:{folder}", "--dim", str(dim), *extra, "--out", str(out)]) == 0
    assert "the default for this data size" in capsys.readouterr().err
    assert main(["evaluate", str(out), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    ratio = m["recon_sse"] / m["pca_recon_sse"]
    print(f"{kind}: error {ratio:.3f}x PCA's, kNN {m['knn_acc']:.3f} vs PCA {m['pca_knn_acc']:.3f}")
    assert m["family"] == "conv-ae" and m["beats_pca"]
    assert ratio <= bound
    p, n_test = m["pca_knn_acc"], round(0.2 * n)
    assert m["knn_acc"] >= p - math.sqrt(p * (1 - p) / n_test)
