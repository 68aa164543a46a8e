"""Analogies: a - b + c in code space, and attribute vectors (one group's mean code minus another's) with a strength:
groups selected on the map, or classes and factors."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st
import torch

from explorer.attribute import selection_effect, selection_vector
from explorer.errors import ExplorerError
from explorer.experiments.analogies import (
    analogy,
    apply_vector,
    class_transfer,
    class_vector,
    factor_vector,
    move_right_shift,
)
from explorer.project import MAP_METHODS, preferred_method
from explorer.ui.mapview import zoomable_map
from explorer.ui.navigation import page_start
from explorer.ui.page_state import reset_on_change
from explorer.ui.state import projection_or_stop, show_row, sidebar

GROUP_SHOWN = 12  # images of each selected group drawn under the map

page_start()
st.title("Analogies")
st.caption("Arithmetic on codes, decoded (Reed et al. 2015). Vectors are computed on the train split's codes; "
           "images are held out.")
sel = sidebar()
if sel is None:
    st.stop()
if sel.model.baseline:
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

st.subheader("Attribute vector from selections")
st.caption("Select group A, then group B, on the map with the box or lasso tool. The vector is the mean code of B "
           "minus the mean code of A; any image's code plus strength x vector is decoded.")
path = str(sel.path)
# row ids selected on another checkpoint's map mean nothing here
reset_on_change("analogies", path, {"attr_groups": {"a": np.zeros(0, np.int64), "b": np.zeros(0, np.int64)}})
groups = st.session_state["attr_groups"]


def on_select(event, rows, area) -> None:
    if area and rows:
        group = "a" if st.session_state.get("attr_target", "group A") == "group A" else "b"
        st.session_state["attr_groups"][group] = np.asarray(rows, dtype=np.int64)


@st.cache_data(show_spinner="Measuring the selections' vector on held-out images ...", max_entries=32)
def measured_selection(key: str, strength: float, _rows_a, _rows_b):
    return selection_effect(model, dataset, codes, _rows_a, _rows_b, strength)


def rows_key(rows) -> str:
    return hashlib.sha1(np.asarray(rows, dtype=np.int64).tobytes()).hexdigest()[:16]


method = preferred_method(sel.model.dim, sel.path)
points = projection_or_stop(codes, method, sel.path).points_
target = st.radio("The next box or lasso selects", ["group A", "group B"], horizontal=True, key="attr_target")
rows_a, rows_b = np.asarray(groups["a"], np.int64), np.asarray(groups["b"], np.int64)
zoomable_map("attr_map", f"{path}:{method}", points, on_pick=on_select, selection_mode=("box", "lasso"),
             labels=dataset.labels, class_names=dataset.class_names, highlight=np.union1d(rows_a, rows_b), grid=False,
             height=420, title=f"{MAP_METHODS[method]} map of the {sel.label} codes: select group A, then group B")
for name, rows in (("A", rows_a), ("B", rows_b)):
    if len(rows):
        held_out = int(np.isin(rows, dataset.test_idx).sum())
        st.caption(f"Group {name}: {len(rows):,} images ({held_out:,} held out)")
        show_row(dataset.images[np.sort(rows[:GROUP_SHOWN])], width=48)
if not len(rows_a) or not len(rows_b):
    st.info("Select group A and group B on the map (box or lasso) to build their vector.")
else:
    vector = selection_vector(codes, rows_a, rows_b)
    cols = st.columns([2, 1])
    sel_strength = cols[0].slider("Strength", -3.0, 3.0, 1.0, 0.25, key="attr_strength")
    j = cols[1].number_input("Image (held-out index)", 0, n_test - 1, 3, key=f"attr_image_{sel.spec}")
    steps = np.linspace(0, sel_strength, 5)
    edited = torch.cat([apply_vector(model, x_test[j : j + 1], vector, float(s)) for s in steps])
    show_row(torch.cat([x_test[j : j + 1], edited]), ["image"] + [f"{s:+.2f} x (B - A)" for s in steps], width=96)
    stamp = f"{path}:{sel.stamp}:{rows_key(rows_a)}:{rows_key(rows_b)}"
    try:
        r = measured_selection(stamp, float(sel_strength), rows_a, rows_b)
    except ExplorerError as exc:
        st.info(str(exc))
    else:
        m = st.columns(3)
        m[0].metric("Held-out A read as B", f"{r.read_as_b:.0%}",
                    f"{100 * (r.read_as_b - r.base_read_as_b):+.0f} points vs no vector")
        m[1].metric("Held-out B read as B", "-" if r.b_read_as_b is None else f"{r.b_read_as_b:.0%}")
        m[2].metric("Held-out A images edited", r.n_measured)
        st.caption(f"Measured with the vector rebuilt from the groups' training images only ({r.n_train[0]:,} in A, "
                   f"{r.n_train[1]:,} in B): each held-out A image's code plus {r.strength:+.2f} x vector is decoded, "
                   f"encoded again and read by a {r.k}-nearest-neighbour classifier trained on those training codes "
                   "to tell A from B. Held-out B images, reconstructed, show what that classifier reaches at best.")
        if r.factor_shift:
            st.table(pd.DataFrame({"moved by the vector": r.factor_shift, "B minus A (selected images)": r.factor_gap,
                                   "read from codes: held-out R²": r.factor_r2}).round(3))
            st.caption("Each known factor is read from codes by a linear regression fitted on the training codes; "
                       "'moved' is its reading of the edited images minus that of their plain reconstructions. "
                       "A low R² means the codes do not hold that factor linearly: its row says little.")

st.subheader("Attribute vector from classes or factors")
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
