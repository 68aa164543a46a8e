"""Over-complete: a code wider than the image; does the plain AE copy anything, and do L1 and noise stop it?"""

import streamlit as st

from explorer.experiments.overcomplete import (
    KIND_LABELS,
    LABELS,
    OVERCOMPLETE_MODELS,
    OvercompleteConfig,
    default_overcomplete_dir,
    finding,
    load_overcomplete,
    overcomplete_table,
    probe_sets,
    reconstruction_rows,
    save_overcomplete,
    train_overcomplete,
)
from explorer.ui.navigation import page_start
from explorer.ui.runs import cancelled_notice, run_with_progress, stored_run
from explorer.ui.state import cached_dataset, show_row, sidebar


@st.cache_resource(show_spinner="Loading the four models ...", max_entries=4)
def cached_run(path: str, mtime: float):
    return load_overcomplete(path)


@st.cache_resource(show_spinner="Preparing the inputs ...", max_entries=4)
def cached_probes(seed: int, n_probe: int):
    return probe_sets(OvercompleteConfig.make(seed=seed, n_probe=n_probe), cached_dataset("mnist5k"))


page_start()
st.title("Over-complete")
sidebar()  # the shared sidebar; this page uses its own mnist5k models
st.caption("A code wider than the 784 pixels could simply copy its input (the identity). Four autoencoders with "
           "one over-complete code layer, trained the same way on mnist5k; only the regulariser differs: none "
           "(plain), an L1 penalty on the code (sparse), a top-k code that keeps a quarter of its units per image, "
           "noise on the input (denoising). A model that learned the identity reconstructs inputs that are not "
           "digits as well as digits; one that learned digits does not.")

cancelled_notice("oc")

run = stored_run(default_overcomplete_dir(), cached_run,
                 "No over-complete results yet: train them below (or run `explorer overcomplete`).")
if run is not None:
    c, t = run.config, run.config.train
    st.subheader("Finding")
    for line in finding(run.results):
        st.markdown(f"- {line}")
    table = overcomplete_table(run.results)
    formats = {col: "{:.2f}" for col in table.columns}
    formats.update({"non-digit / digit error": "{:.1f}", "active fraction": "{:.3f}", "dead units": "{:.0f}",
                    "live units": "{:.0f}"})
    st.dataframe(table.style.format(formats, na_rep="-"))
    n = run.results["n"]
    st.caption(f"Squared error per image (summed over the 784 pixels, averaged over images) on {n['digits']:,} "
               f"held-out digits and {n['noise']:,} images of each other kind; a copy scores 0. Shuffled: held-out "
               f"digits with their pixels moved by one fixed permutation. Photos: crops of scikit-image's bundled "
               f"photographs. Active fraction: share of code units non-zero per held-out digit; dead units: never "
               f"non-zero on any; live: the rest. "
               f"Code width {c.width}, {t.steps:,} steps of batch {t.batch_size} each, L1 weight {c.l1_weight}, "
               f"{c.noise} noise {c.noise_level}.")

    st.subheader("Reconstructions")
    shown = st.slider("Images per row", 4, 12, 8, key="oc_n")
    rows = reconstruction_rows(run, cached_probes(t.seed, c.n_probe), shown)
    for kind, images in rows.items():
        st.markdown(f"**{KIND_LABELS[kind]}**")
        for label, row in images.items():
            st.caption(label if label == "input" else LABELS[label])
            show_row(row, width=56)

with st.expander("Retrain the four models (about 6 minutes on one CPU core at 3,000 steps)"):
    defaults = OvercompleteConfig()
    c1, c2 = st.columns(2)
    width = c1.select_slider("Code width", [1024, 1536, 2048], defaults.width, key="oc_width")
    steps = c2.select_slider("Steps (each model)", [300, 1000, 2000, 3000, 5000], defaults.train.steps,
                             key="oc_steps")
    l1_weight = c1.select_slider("L1 weight (sparse)", [0.02, 0.05, 0.1, 0.2, 0.5], defaults.l1_weight, key="oc_l1")
    noise_level = c2.select_slider("Gaussian noise std (denoising)", [0.05, 0.1, 0.2, 0.3, 0.4], defaults.noise_level,
                                   key="oc_noise")
    if st.button("Train the plain, sparse, top-k and denoising AEs", key="oc_train"):
        config = OvercompleteConfig.make(width=width, steps=steps, l1_weight=l1_weight, noise_level=noise_level)
        trained = run_with_progress(train_overcomplete, config, "oc", OVERCOMPLETE_MODELS, LABELS,
                                    dataset=cached_dataset("mnist5k"))
        if trained is not None:
            save_overcomplete(trained)
            st.rerun()
