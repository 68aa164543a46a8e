"""Codes out of the app: CSV / Parquet tables and TensorBoard Projector files."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError


def codes_frame(codes: np.ndarray, dataset, indices: np.ndarray | None = None) -> pd.DataFrame:
    """One row per image: index, split, label (name), then z0..z{d-1}."""
    idx = np.arange(len(codes)) if indices is None else np.asarray(indices)
    frame = pd.DataFrame({"index": idx})
    test = np.zeros(len(dataset), dtype=bool)
    test[dataset.test_idx] = True
    frame["split"] = np.where(test[idx], "held-out", "train")
    if dataset.labels is not None:
        frame["label"] = dataset.labels[idx]
        if dataset.class_names:
            frame["class"] = [dataset.class_names[i] for i in dataset.labels[idx]]
    for name, values in dataset.factors.items():
        frame[f"factor_{name}"] = values[idx]
    for j in range(codes.shape[1]):
        frame[f"z{j}"] = codes[:, j]
    return frame


def table_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "csv":
        buf.write(frame.to_csv(index=False).encode())
    elif fmt == "parquet":
        frame.to_parquet(buf, index=False)
    else:
        raise ExplorerError(f"unknown table format {fmt!r}; use csv or parquet")
    return buf.getvalue()


def write_table(frame: pd.DataFrame, out: str | Path) -> Path:
    """Write .csv or .parquet atomically (temporary file, then rename)."""
    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise ExplorerError(f"{out}: the output must end in .csv or .parquet")
    if not out.parent.is_dir():
        raise ExplorerError(f"{out.parent}: no such folder")
    data = table_bytes(frame, fmt)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def sprite_image(images: np.ndarray) -> tuple[np.ndarray, int]:
    """Tile images (N, C, H, W) in [0, 1] into one square uint8 sprite, as the Projector expects."""
    n, c, h, w = images.shape
    side = int(np.ceil(np.sqrt(n)))
    sheet = np.ones((side * h, side * w, c), dtype=np.float32)
    for i in range(n):
        r, col = divmod(i, side)
        sheet[r * h : (r + 1) * h, col * w : (col + 1) * w] = images[i].transpose(1, 2, 0)
    sheet = (sheet * 255).round().astype(np.uint8)
    return (sheet[..., 0] if c == 1 else sheet), h


def projector_files(codes: np.ndarray, frame: pd.DataFrame, images: np.ndarray) -> dict[str, bytes]:
    """tensors.tsv, metadata.tsv, sprite.png and projector_config.pbtxt for TensorBoard's Projector."""
    from PIL import Image

    tensors = "\n".join("\t".join(f"{v:.6g}" for v in row) for row in codes) + "\n"
    meta_cols = [c for c in frame.columns if not c.startswith("z")]
    metadata = frame[meta_cols].to_csv(sep="\t", index=False)
    sheet, size = sprite_image(images)
    png = io.BytesIO()
    Image.fromarray(sheet).save(png, format="PNG")
    config = (
        "embeddings {\n  tensor_path: \"tensors.tsv\"\n  metadata_path: \"metadata.tsv\"\n"
        f"  sprite {{\n    image_path: \"sprite.png\"\n    single_image_dim: {size}\n    single_image_dim: {size}\n  }}\n}}\n"
    )
    return {"tensors.tsv": tensors.encode(), "metadata.tsv": metadata.encode(), "sprite.png": png.getvalue(),
            "projector_config.pbtxt": config.encode()}
