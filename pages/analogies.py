"""Analogies: a - b + c in code space, and attribute vectors (one group's mean code minus another's) with a strength."""

import numpy as np
import streamlit as st
import torch

from explorer.errors import ExplorerError
from explorer.experiments.analogies import (analogy, apply_vector, class_transfer, class_vector, factor_vector,
                                            move_right_shift)
from explorer.ui.state import ensure_app_navigation, show_row, sidebar

ensure_app_navigation()
st.title("Analogies")
st.caption("Arithmetic on codes, decoded (Reed et al. 2015). Vectors are computed on the train split's codes; "
           "images are held out.")
sel = sidebar()
if sel is None:
    st.stop()
if sel.model.family == "pca":
    st.info("PCA is linear, so its analogies are plain pixel arithmetic; pick an autoencoder to see more.")

dataset, model = sel.dataset, sel.model
codes = sel.codes()  # (N, d), every image
train_codes = codes[dataset.train_idx]
x_test = dataset.x_test
n_test = len(x_test)


@st.cache_data(show_spinner="Measuring the move-right vector ...", max_entries=32)
def measured_shift(path: str, strength: float):
    return move_right_shift(model, dataset, strength)


@st.cache_data(show_spinner="Measuring the class vector ...", max_entries=64)
def measured_transfer(path: str, a: int, b: int, strength: float):
    return class_transfer(model, dataset, a, b, strength)


st.subheader("a - b + c")
cols = st.columns(3)
idx = [cols[i].number_input(f"{name} (held-out index)", 0, n_test - 1, default, key=f"analogy_{name}_{sel.spec}")
       for i, (name, default) in enumerate([("a", 0), ("b", 1), ("c", 2)])]
a, b, c = (x_test[i : i + 1] for i in idx)
out = analogy(model, a, b, c)
show_row(torch.cat([a, b, c, out]), ["a", "b", "c", "a - b + c"], width=96)

st.subheader("Attribute vector")
kinds = (["factor"] if dataset.factors else []) + (["class"] if dataset.labels is not None else [])
if not kinds:
    st.info("This dataset has neither labels nor known factors to build attribute vectors from.")
    st.stop()
cols = st.columns([1, 1, 1, 2])
kind = cols[0].radio("From", kinds, key=f"analogy_kind_{sel.spec}")
if kind == "factor":
    names = list(dataset.factors)
    factor = cols[1].selectbox("Factor", names, index=names.index("x") if "x" in names else 0,
                               key=f"analogy_factor_{sel.spec}")
    values = np.asarray(dataset.factors[factor])
    vector = factor_vector(train_codes, values[dataset.train_idx], 0.25)
    cols[2].caption(f"mean code of the top quarter of {factor} minus that of the bottom quarter")
else:
    names = dataset.class_names or [str(k) for k in range(int(dataset.labels.max()) + 1)]
    src = names.index(cols[1].selectbox("From class", names, index=0, key=f"analogy_from_{sel.spec}"))
    dst = names.index(cols[2].selectbox("To class", names, index=min(1, len(names) - 1),
                                        key=f"analogy_to_{sel.spec}"))
    try:
        vector = class_vector(train_codes, dataset.y_train, src, dst)
    except ExplorerError as exc:
        st.error(str(exc))
        st.stop()
strength = cols[3].slider("Strength", -3.0, 3.0, 1.0, 0.25, key="analogy_strength")
i = st.number_input("Image (held-out index)", 0, n_test - 1, 3, key=f"analogy_image_{sel.spec}")
x = x_test[i : i + 1]
steps = np.linspace(0, strength, 5)
edited = torch.cat([apply_vector(model, x, vector, float(s)) for s in steps])
show_row(torch.cat([x, edited]), ["image"] + [f"{s:+.2f} x vector" for s in steps], width=96)

if kind == "factor" and factor == "x":
    r = measured_shift(str(sel.path), float(strength))
    m = st.columns(3)
    m[0].metric("Move-right shift", f"{r.shift_px:+.1f} px", f"strength {strength:+.2f}", delta_color="off")
    m[1].metric("Images moved right", f"{r.moved_right:.0%}")
    m[2].metric("Vertical drift", f"{r.shift_y_px:+.1f} px")
    st.caption(f"Centroid (image moments) of each of the {r.n} held-out sprites decoded with the vector, minus "
               f"decoded without it. Real sprites in the top quarter of x sit {r.group_gap_px:.1f} px right of "
               "those in the bottom quarter.")
elif kind == "factor":
    st.caption("The pixel shift is measured for the x factor (the move-right vector).")
else:
    r = measured_transfer(str(sel.path), src, dst, float(strength))
    m = st.columns(2)
    m[0].metric(f"Held-out {names[src]}s read as {names[dst]}", f"{r.rate:.0%}",
                f"{100 * (r.rate - r.base_rate):+.0f} points vs no vector")
    m[1].metric("Images", r.n)
    st.caption("Each edited image is decoded, encoded again and classified by its 5 nearest train codes.")
