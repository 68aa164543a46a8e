"""The sidebar every page shares (dataset + checkpoint + model card) and the cached loaders behind it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from explorer.checkpoints import Checkpoint, checkpoint_root, files_stamp
from explorer.checkpoints import checkpoints_by_dataset as group_checkpoints
from explorer.datasets import DEFAULT_DATASET, Dataset, load_dataset
from explorer.errors import ExplorerError
from explorer.models.base import Autoencoder


@st.cache_resource(show_spinner="Loading the dataset (a folder of image files is decoded once into a cache; "
                                "that first time can take minutes) ...")
def cached_dataset(spec: str, image_size: int | None = None, color: str = "gray") -> Dataset:
    return load_dataset(spec, image_size=image_size, color=color)


@st.cache_resource(max_entries=256, show_spinner=False)
def cached_checkpoint(path: str, stamp: tuple) -> Checkpoint:
    """The Checkpoint of a folder, its config.json read once per version of its files (stamp: files_stamp).
    Shared by every session: never modified."""
    return Checkpoint(path)


def open_checkpoint(path: Path | str) -> Checkpoint:
    """The cached Checkpoint of a folder: one stat per call, the config read again only when its files change."""
    return cached_checkpoint(str(path), files_stamp(path))


@st.cache_resource(show_spinner="Loading model ...", max_entries=32)
def cached_model(path: str, stamp, image_shape: tuple) -> tuple[Autoencoder, dict]:
    """stamp: files_stamp(path), in the key so that a retrained model misses."""
    ckpt = open_checkpoint(path)
    return ckpt.load_model(image_shape), ckpt.config


@st.cache_resource(show_spinner="Reading the stored codes (encoding every image once if they are missing) ...",
                   max_entries=32)
def cached_codes(path: str, stamp, spec: str, image_size, color) -> np.ndarray:
    """Codes (N, d) of every image of the dataset under the checkpoint's model: stored beside the checkpoint,
    memory-mapped, read-only (shared by every session, so never modified)."""
    dataset = cached_dataset(spec, image_size, color)
    model, _ = cached_model(path, stamp, dataset.image_shape)
    codes = open_checkpoint(path).codes(model, dataset)
    if codes.flags.writeable:
        codes.flags.writeable = False
    return codes


@st.cache_resource(max_entries=8)
def cached_pca_map(path: str, stamp: tuple, _pca_codes: np.ndarray) -> np.ndarray:
    """PCA's own 2-D map (its first two components), one array per baseline (its density picture drawn once)."""
    from explorer.project import baseline_points

    return np.ascontiguousarray(baseline_points(_pca_codes))


def checkpoints_by_dataset() -> dict[str, list[Checkpoint]]:
    """Every checkpoint under the root, grouped by dataset; configs are read once per version of their files."""
    return group_checkpoints(checkpoint_root(), open_checkpoint)


@dataclass
class Selection:
    """What the sidebar picked: the dataset, the model, and the PCA baseline recorded beside it."""

    spec: str
    dataset: Dataset
    path: Path
    model: Autoencoder
    config: dict
    pca_path: Path | None
    checkpoint: Checkpoint | None = None

    def __post_init__(self):
        self.checkpoint = self.checkpoint or open_checkpoint(self.path)

    @property
    def dataset_options(self) -> tuple:
        return self.checkpoint.dataset_options

    @property
    def stamp(self) -> tuple:
        """The checkpoint's files_stamp: the cache key of everything computed from its model."""
        return self.checkpoint.stamp

    @property
    def pca_stamp(self) -> tuple | None:
        return None if self.pca_path is None else files_stamp(self.pca_path)

    def codes(self) -> np.ndarray:
        return cached_codes(str(self.path), self.stamp, self.spec, *self.dataset_options)

    def pca(self) -> tuple[Autoencoder, dict] | None:
        if self.pca_path is None:
            return None
        return cached_model(str(self.pca_path), self.pca_stamp, self.dataset.image_shape)

    def pca_codes(self) -> np.ndarray | None:
        if self.pca_path is None:
            return None
        return cached_codes(str(self.pca_path), self.pca_stamp, self.spec, *self.dataset_options)

    @property
    def label(self) -> str:
        return f"{self.model.family} d={self.model.dim}"


def _kept_selectbox(label: str, options: list, key: str, default):
    """A sidebar selectbox whose choice survives page switches (Streamlit drops a widget's state
    when a page without it runs, so the choice is also kept under a key of our own)."""
    kept = f"_kept_{key}"
    value = st.session_state.get(key, st.session_state.get(kept, default))
    st.session_state[key] = value if value in options else default
    st.session_state[kept] = st.sidebar.selectbox(label, options, key=key)
    return st.session_state[kept]


def sidebar() -> Selection | None:
    """Draw the shared sidebar; return the selection, or None (with an st.error) when nothing loads."""
    groups = checkpoints_by_dataset()
    if not groups:
        st.sidebar.info(f"No checkpoints under {checkpoint_root()} yet. "
                        "Train one on the Train page or with `explorer train`.")
        return None
    specs = sorted(groups, key=lambda s: (s != DEFAULT_DATASET, s))
    spec = _kept_selectbox("Dataset", specs, "dataset", specs[0])
    choices = {c.name: c for c in groups[spec]}
    default = next((n for n in ("conv-ae-d16", "conv-ae-d10", "mlp-ae-d2") if n in choices), next(iter(choices)))
    ckpt = choices[_kept_selectbox("Checkpoint", list(choices), "checkpoint", default)]
    path = ckpt.path
    try:
        dataset = cached_dataset(ckpt.spec, *ckpt.dataset_options)
        model, config = cached_model(str(path), ckpt.stamp, dataset.image_shape)
        sel = Selection(ckpt.spec, dataset, path, model, config, ckpt.pca_path, ckpt)
    except ExplorerError as exc:
        st.sidebar.error(str(exc))
        return None
    model_card(sel)
    return sel


def model_card(sel: Selection) -> None:
    m, p = sel.config.get("metrics", {}), sel.config.get("pca_metrics", {})
    lines = [f"**{sel.model.family}**, code size d = {sel.model.dim}",
             f"{len(sel.dataset)} images {tuple(sel.dataset.image_shape)}, {len(sel.dataset.test_idx)} held out"]
    if "recon_sse" in m:
        pca_error = p.get("recon_sse", float("nan"))
        lines.append(f"held-out error **{m['recon_sse']:.2f}** vs PCA **{pca_error:.2f}** (sum of squares per image)")
    if "knn_acc" in m:
        lines.append(f"kNN accuracy {m['knn_acc']:.3f} vs PCA {p.get('knn_acc', float('nan')):.3f}")
    if sel.model.sparse_code and "active_fraction" in m:
        lines.append(f"code units active per image {m['active_fraction']:.0%}; "
                     f"never active: {m['dead_units']} of {sel.model.dim}")
    secs = sel.config.get("train", {}).get("seconds")
    if secs:
        lines.append(f"trained in {secs:.0f} s")
    st.sidebar.markdown("  \n".join(lines))


AUTO_MAP_SECONDS = 30  # a missing map estimated to take longer is only computed when asked for


def projection_or_stop(codes: np.ndarray, method: str, ckpt_dir: Path):
    """The stored 2-D map of the codes, or one computed now and stored: at once when it takes seconds,
    else after a button that says how long. Never silently; an st.error and stop on failure."""
    from explorer.project import MAP_METHODS, estimated_seconds, project, stored_projection

    proj = stored_projection(codes, method, ckpt_dir)
    if proj is not None:
        return proj
    what, secs = f"{MAP_METHODS[method]} map of {len(codes):,} codes", estimated_seconds(method, len(codes))
    if secs > AUTO_MAP_SECONDS and not st.button(f"Compute the {what} now (about {secs:.0f} s)",
                                                 key=f"compute_{method}"):
        st.info(f"This checkpoint has no stored {what}. Compute it here, or beforehand with "
                f"`explorer maps {ckpt_dir} --method {method}`; it is stored beside the checkpoint.")
        st.stop()
    bar = st.progress(0.0, text=f"Computing the {what}: about {secs:.0f} s, once per checkpoint ...")
    try:
        return project(codes, method, ckpt_dir, progress=lambda done, total: bar.progress(done / total))
    except ExplorerError as exc:
        st.error(str(exc))
        st.stop()
    finally:
        bar.empty()


def to_display(images: torch.Tensor | np.ndarray) -> list[np.ndarray]:
    """Images (N, C, H, W) -> list of H x W (x 3) arrays in [0, 1] for st.image."""
    arr = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    arr = np.clip(arr, 0, 1)
    return [a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0) for a in arr]


def show_row(images, captions=None, width: int = 64) -> None:
    """A strip of images; st.image upsamples small digits with its own filter, so scale them up first."""
    st.image(to_display(images), caption=captions, width=width, clamp=True)
