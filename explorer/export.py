"""Codes out of the app: CSV / Parquet tables, the 2-D map as HTML and PNG, and TensorBoard Projector files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.atomic import atomic_write_file
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
    atomic_write_file(out, lambda f: f.write(data))
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
        "  sprite {\n    image_path: \"sprite.png\"\n"
        f"    single_image_dim: {size}\n    single_image_dim: {size}\n  }}\n}}\n"
    )
    return {"tensors.tsv": tensors.encode(), "metadata.tsv": metadata.encode(), "sprite.png": png.getvalue(),
            "projector_config.pbtxt": config.encode()}


SPRITE_MAX_PX = 8192  # TensorBoard's Projector refuses sprite sheets larger than 8192 x 8192


def projector_limit(image_shape: tuple) -> int:
    """The most images whose square sprite sheet stays within the Projector's 8192-pixel side."""
    side = SPRITE_MAX_PX // max(image_shape[1:])
    return side * side


def projector_zip(codes: np.ndarray, frame: pd.DataFrame, images: np.ndarray) -> bytes:
    """The four Projector files in one zip: unpack it and point TensorBoard's Projector (or
    projector.tensorflow.org: Load, then the .tsv files and the sprite) at projector_config.pbtxt."""
    limit = projector_limit(images.shape[1:])
    if len(codes) > limit:
        raise ExplorerError(f"{len(codes)} images make a sprite sheet over {SPRITE_MAX_PX} px; export at most {limit}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in projector_files(codes, frame, images).items():
            zf.writestr(name, data)
    return buf.getvalue()


def map_points(codes: np.ndarray, ckpt_dir=None, method: str | None = None) -> tuple[np.ndarray, str]:
    """2-D points (N, 2) of the codes for the exported map, and the method's name: the codes
    themselves at d = 2, else PCA of the codes, or `method` (e.g. a stored UMAP map). Uses the maps
    stored beside the checkpoint (explorer.project) where that module is present."""
    method = method or ("direct" if codes.shape[1] == 2 else "pca")
    try:
        from explorer.project import project
    except ImportError:  # the map module is optional here: fall back to the two linear maps
        project = None
    if project is not None:
        return project(codes, method, ckpt_dir).points_, method
    if method == "direct" and codes.shape[1] == 2:
        return np.asarray(codes, dtype=np.float32), method
    if method != "pca":
        raise ExplorerError(f"map {method!r} needs explorer.project; export the PCA map instead")
    from sklearn.decomposition import PCA

    points = PCA(n_components=2, random_state=0).fit_transform(np.asarray(codes, dtype=np.float64))
    return points.astype(np.float32), method


def _label_text(frame: pd.DataFrame) -> np.ndarray | None:
    if "class" in frame:
        return frame["class"].astype(str).to_numpy()
    if "label" in frame:
        return frame["label"].astype(str).to_numpy()
    return None


def _density(points: np.ndarray, frame: pd.DataFrame):
    """A large map as one density picture: (RGBA image, ranges, class names, their colours)."""
    from explorer import density
    from explorer.mapplot import DENSITY_PIXELS, PALETTE, extent

    labels = _label_text(frame)
    classes, names = pd.factorize(labels) if labels is not None else (None, [])
    ranges = extent(points)
    image = density.render(points, *ranges, *DENSITY_PIXELS, classes=classes, palette=PALETTE)
    return image, ranges, list(names), [PALETTE[i % len(PALETTE)] for i in range(len(names))]


def map_figure(points: np.ndarray, frame: pd.DataFrame, title: str):
    """A standalone plotly scatter of the map, one trace per class (legend toggles classes), hover
    shows index and label. SVG scatter, not WebGL, so the exported page draws anywhere. Above
    DENSITY_ABOVE points, one density picture instead (a page of a million SVG points would not open)."""
    import plotly.graph_objects as go

    from explorer.mapplot import DENSITY_ABOVE

    labels = _label_text(frame)
    fig = go.Figure()
    if len(points) > DENSITY_ABOVE:
        from explorer.density import png_data_uri

        image, ((x0, x1), (y0, y1)), names, colours = _density(points, frame)
        fig.add_layout_image(source=png_data_uri(image), xref="x", yref="y", x=x0, y=y1, sizex=x1 - x0,
                             sizey=y1 - y0, sizing="stretch", layer="below")
        for name, colour in zip(names, colours):  # legend entries; the colours live in the picture
            fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name, marker=dict(color=colour)))
        fig.update_layout(title=title, height=700, width=900, template="plotly_white", legend_title_text="label",
                          xaxis=dict(range=[x0, x1], showgrid=False), yaxis=dict(range=[y0, y1], showgrid=False))
        return fig
    groups = [(None, np.ones(len(points), bool))] if labels is None else [
        (name, labels == name) for name in pd.unique(labels)]
    for name, mask in groups:
        hover = "index %{customdata}" + (f"<br>label {name}" if name else "") + "<extra></extra>"
        fig.add_trace(go.Scatter(x=points[mask, 0], y=points[mask, 1], mode="markers", name=name or "images",
                                 customdata=frame["index"].to_numpy()[mask], marker=dict(size=4, opacity=0.8),
                                 hovertemplate=hover))
    fig.update_layout(title=title, height=700, width=900, template="plotly_white", legend_title_text="label")
    return fig


def map_html(points: np.ndarray, frame: pd.DataFrame, title: str) -> bytes:
    """The map as one self-contained HTML page (plotly.js inlined: opens offline, about 5 MB)."""
    return map_figure(points, frame, title).to_html(include_plotlyjs=True, full_html=True).encode()


def map_png(points: np.ndarray, frame: pd.DataFrame, title: str, dpi: int = 150) -> bytes:
    """The map as a PNG, drawn with matplotlib: plotly's own PNG export needs kaleido and a browser,
    which an offline server cannot count on."""
    import matplotlib
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    from explorer.mapplot import DENSITY_ABOVE

    labels = _label_text(frame)
    fig = Figure(figsize=(7, 6), dpi=dpi)
    ax = fig.add_subplot()
    if len(points) > DENSITY_ABOVE:  # a million dots would take minutes and hide each other: their density
        from matplotlib.patches import Patch

        image, ((x0, x1), (y0, y1)), names, colours = _density(points, frame)
        ax.imshow(image, extent=(x0, x1, y0, y1), aspect="auto", interpolation="nearest")
        if names:
            patches = [Patch(color=c, label=n) for n, c in zip(names, colours)]
            ax.legend(handles=patches, fontsize="small", title="label")
    elif labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.7)
    else:
        cmap = matplotlib.colormaps["tab10" if len(pd.unique(labels)) <= 10 else "tab20"]
        for i, name in enumerate(pd.unique(labels)):
            m = labels == name
            ax.scatter(points[m, 0], points[m, 1], s=3, alpha=0.7, color=cmap(i % cmap.N), label=name)
        ax.legend(markerscale=4, fontsize="small", loc="best", title="label")
    ax.set_title(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
