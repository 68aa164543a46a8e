"""Decoder swap: one shared encoder, a decoder per sprite shape; A's pose drawn as B, measured."""

import json
from dataclasses import asdict
from pathlib import Path

import streamlit as st

from explorer.checkpoints import checkpoint_root
from explorer.datasets.sprites import SHAPES
from explorer.errors import ExplorerError
from explorer.experiments.swap import (
    STAGES,
    SwapConfig,
    default_swap_dir,
    held_out_set,
    load_swap,
    save_swap,
    swap_grid,
    swap_table,
    train_swap,
)
from explorer.ui.navigation import page_start
from explorer.ui.runs import cancelled_notice, run_with_progress
from explorer.ui.state import show_row, sidebar

COLUMNS = {"position_px": "position error (px)", "scale_px": "scale error (px)", "scale_corr": "scale correlation",
           "angle_deg": "angle error (deg, mod 180)", "angle_n": "angles scored", "pixel_sse": "pixel error (SSE)"}


@st.cache_resource(show_spinner="Loading the swap models ...", max_entries=8)
def cached_swap(path: str, mtime: float):
    return load_swap(path)


@st.cache_resource(max_entries=8)
def cached_test_set(config_json: str, n: int):
    """The first n held-out sprites of the run's own config: the held-out set excludes its training sprites."""
    return held_out_set(SwapConfig.from_dict(json.loads(config_json)), n)


def swap_dirs() -> list[Path]:
    base = Path(checkpoint_root()) / "sprites" / "experiments"
    return sorted(p for p in base.glob("swap-*") if (p / "results.json").is_file())


page_start()
st.title("Decoder swap")
sidebar()  # the shared sidebar; this page uses its own sprite models
st.caption("The deep-fake scheme on sprites: one encoder shared by two shapes, a decoder per shape. Encode a "
           "shape-A sprite, decode it with B's decoder: B should appear in A's position, size and orientation. "
           "The baseline is two separately trained autoencoders (A's encoder, B's decoder).")
cancelled_notice("swap")

dirs = swap_dirs()
if not dirs:
    st.info("No decoder-swap model yet: train one below (or run `explorer swap`).")
else:
    names = [p.name for p in dirs]
    default = default_swap_dir().name
    name = st.selectbox("Model", names, index=names.index(default) if default in names else 0)
    path = dirs[names.index(name)]
    try:
        run = cached_swap(str(path), (path / "model.safetensors").stat().st_mtime)
    except (ExplorerError, OSError) as exc:
        st.error(str(exc))
        st.stop()
    a, b = run.config.shape_a, run.config.shape_b
    n = st.slider("Held-out sprites shown", 4, 16, 10, key="swap_n")
    x_a, ideal = cached_test_set(json.dumps(asdict(run.config)), n)
    for caption, images in swap_grid(run, x_a, ideal).items():
        st.markdown(f"**{caption}**")
        show_row(images)

    st.subheader(f"Pose kept? Mean errors on {run.results['n_test']} held-out {a} sprites")
    table = swap_table(run.results).rename(columns=COLUMNS)
    st.dataframe(table.style.format({c: "{:.0f}" if c == COLUMNS["angle_n"] else "{:.2f}" for c in table.columns}))
    st.caption(f"Swaps are compared with the ideal answer, {b} rendered with the input's factors. The floor row is the "
               f"best the model can do for a {b}: those ideal {b} images through the shared encoder and {b}'s decoder, "
               f"against themselves. Position: centroid distance; scale: difference of sqrt(area), and its correlation "
               f"across sprites (1 = sizes kept up to a factor); angle: principal axis of the second moments, "
               f"modulo 180 degrees, scored only where the target's axis is measurable (its moments anisotropic: "
               f"'angles scored' counts them). No held-out sprite is a training one.")

with st.expander("Retrain (small run, a few minutes on a CPU)"):
    c1, c2 = st.columns(2)
    shape_a = c1.selectbox("Shape A (input)", SHAPES, index=SHAPES.index(SwapConfig.shape_a), key="swap_shape_a")
    shape_b = c2.selectbox("Shape B (target)", SHAPES, index=SHAPES.index(SwapConfig.shape_b), key="swap_shape_b")
    epochs = c1.slider("Epochs", 1, 40, SwapConfig().train.epochs, key="swap_epochs")
    n_train = c2.select_slider("Training sprites per shape", [200, 500, 1000, 2000, 4000], 4000, key="swap_n_train")
    if st.button("Train shared-encoder model and baseline", key="swap_train"):
        try:
            config = SwapConfig.make(shape_a=shape_a, shape_b=shape_b, epochs=epochs, n_train=n_train)
        except ExplorerError as exc:
            st.error(str(exc))
            st.stop()
        trained = run_with_progress(train_swap, config, "swap", list(STAGES))
        if trained is not None:
            save_swap(trained)
            st.rerun()
