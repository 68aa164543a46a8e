"""Disentangle: DC-IGN against a plain VAE and a beta-VAE on sprites; traversals, MI heat map, MIG."""

import pandas as pd
import plotly.express as px
import streamlit as st

from explorer.experiments.base import RESULTS
from explorer.experiments.disentangle import (
    DISENTANGLE_MODELS,
    DisentangleConfig,
    default_disentangle_dir,
    load_disentangle,
    mig_table,
    reference_codes,
    save_disentangle,
    train_disentangle,
    traversal,
)
from explorer.ui.navigation import page_start
from explorer.ui.runs import cancelled_notice, run_with_progress, stored_run
from explorer.ui.state import show_row, sidebar

LABELS = {"dc-ign": "DC-IGN", "vae": "VAE (beta = 1)", "beta-vae": "beta-VAE"}
N_TRAVERSAL_REF = 500  # sprites whose codes set each unit's traversal range


@st.cache_resource(show_spinner="Loading the models ...", max_entries=4)
def cached_run(path: str, mtime: float):
    return load_disentangle(path)


@st.cache_resource(show_spinner="Encoding sprites ...", max_entries=16)
def cached_reference_codes(path: str, mtime: float, method: str):
    return reference_codes(cached_run(path, mtime), method, N_TRAVERSAL_REF)


page_start()
st.title("Disentangle")
sidebar()  # the shared sidebar; this page uses its own sprite models
st.caption("DC-IGN (Kulkarni et al. 2015) trains on batches in which only one factor of the sprite varies; the "
           "code units of the other factors are clamped to their batch mean, so each factor gets its own units. Scored "
           "by the mutual information gap (MIG): 1 = each factor read from one unit alone, 0 = none or smeared; and by "
           "the group MIG, which reads a factor from its group of units (DC-IGN gives shape and rotation two each), "
           "so a perfectly disentangled code in that layout scores 1.")
cancelled_notice("dis")

path = default_disentangle_dir()
run = stored_run(path, cached_run, "No disentanglement models yet: train them below (or run `explorer disentangle`).")
if run is not None:
    res = run.results["methods"]
    cols = st.columns(len(DISENTANGLE_MODELS))
    for col, m in zip(cols, DISENTANGLE_MODELS):
        delta = None if m == "dc-ign" else f"{res[m]['mig'] - res['dc-ign']['mig']:+.3f} vs DC-IGN"
        col.metric(f"MIG, {LABELS[m]}", f"{res[m]['mig']:.3f}", delta, delta_color="off")
        if "group_mig" in res[m]:
            col.metric(f"group MIG, {LABELS[m]}", f"{res[m]['group_mig']:.3f}")
    st.dataframe(mig_table(run.results).rename(columns=LABELS).style.format("{:.3f}"))
    st.caption(f"Rows: the MIG and the gap per factor (their mean is the MIG); the group MIG and the group gap per "
               f"factor (the factor's units jointly, minus the best unit outside them: DC-IGN's units, or for the VAEs "
               f"their most informative units in the same number); measured on {run.results['n_eval']} freshly sampled "
               f"sprites, none of them a training sprite; the last row is each model's reconstruction error. "
               f"Rotations are recorded as the image shows them (a square's modulo 90 degrees, an ellipse's modulo "
               f"180), but a triangle turned by 120 degrees looks almost the same, which still limits every model on "
               f"rotation.")
    recipes = {m: res[m].get("recipe") for m in DISENTANGLE_MODELS}  # runs saved before the one recipe have none
    if all(recipes.values()):
        r = recipes["dc-ign"]
        best = ", ".join(f"{LABELS[m]} {recipes[m]['best_step']:,}" for m in DISENTANGLE_MODELS)
        st.caption(f"One recipe for all three: {r['optimizer']}, {r['schedule']} schedule from lr {r['lr']:g}, "
                   f"{r['steps']:,} steps of {r['images_per_step']} images (for DC-IGN one one-factor batch), averaged "
                   f"(EMA) weights; each keeps the best of {r['validation_passes']} validation passes on "
                   f"{r['validation_images']} fresh sprites (neither training nor evaluation ones), scored by its own "
                   f"VAE objective. Best step: {best}.")

    method = st.radio("Model", DISENTANGLE_MODELS, format_func=LABELS.get, horizontal=True, key="dis_method")
    units = [f"unit {j}" + (f" ({name})" if method == "dc-ign" else "") for j, name in enumerate(run.results["units"])]
    mi = pd.DataFrame(res[method]["mi"], index=res[method]["factors"], columns=units)
    fig = px.imshow(mi, zmin=0, zmax=1, color_continuous_scale="Viridis", text_auto=".2f", aspect="auto",
                    labels={"color": "I(factor; unit) / H(factor)"})
    fig.update_layout(title=f"{LABELS[method]}: how much of each factor each unit carries", height=360)
    st.plotly_chart(fig, key="dis_heatmap")

    st.subheader("Traversals: one row per code unit, swept over its range in the data")
    x_ref, codes = cached_reference_codes(str(path), (path / RESULTS).stat().st_mtime, method)
    index = st.number_input("Start from sprite", 0, len(x_ref) - 1, 0, key="dis_index")
    show_row(x_ref[index : index + 1], ["start"])
    grid = traversal(run.models[method], x_ref[index], codes)
    for label, row in zip(units, grid):
        st.markdown(f"**{label}**")
        show_row(row, width=48)

with st.expander("Retrain the three models (small run, several minutes on a CPU)"):
    c1, c2 = st.columns(2)
    epochs = c1.slider("Epochs", 1, 40, DisentangleConfig().train.epochs, key="dis_epochs")
    n_batches = c2.select_slider("One-factor batches of 32", [20, 50, 100, 200, 300], DisentangleConfig().n_batches,
                                 key="dis_batches")
    if st.button("Train DC-IGN, VAE and beta-VAE", key="dis_train"):
        trained = run_with_progress(train_disentangle, DisentangleConfig.make(epochs=epochs, n_batches=n_batches),
                                    "dis", DISENTANGLE_MODELS, LABELS)
        if trained is not None:
            save_disentangle(trained)
            st.rerun()
