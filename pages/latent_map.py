"""Latent map: the codes in 2-D beside the PCA baseline's own 2-D map of the same images; click and select.
Colour options "AE vs PCA per image" colour both maps by how the autoencoder compares with PCA on each image."""

from functools import partial

import numpy as np
import streamlit as st
import torch

from explorer.ae_vs_pca import SAMPLE_MAX, PerImage, per_image, symmetric_range
from explorer.errors import ExplorerError
from explorer.evaluate import reconstruct_and_score
from explorer.project import MAP_METHODS, map_metrics, methods_for, preferred_method
from explorer.ui.mapview import drawn_as, reset_tools, zoomable_map
from explorer.ui.navigation import page_start
from explorer.ui.page_state import dataset_identity, reset_on_change
from explorer.ui.state import cached_pca_map, projection_or_stop, show_row, sidebar

MAX_SHOWN = 120  # images drawn for a box / lasso selection
N_LISTED = 8  # images in each AE vs PCA list
# AE vs PCA per image: colour option -> (colour bar title, colour scale)
PER_IMAGE = {"AE vs PCA: error difference": ("AE − PCA error", "diverging"),
             "AE vs PCA: neighbours shared with PCA": ("shared with PCA", "viridis"),
             "AE vs PCA: neighbours shared with pixels": ("shared with pixels", "viridis")}

page_start()
st.title("Latent map")
sel = sidebar()
if sel is None:
    st.stop()
ds = sel.dataset
reset_on_change("latent_map", dataset_identity(sel), {"map_selection": None})  # row ids of another dataset


@st.cache_data(show_spinner="Measuring the map ...", max_entries=64)
def cached_map_metrics(key: str, _points: np.ndarray, _dataset) -> dict:
    """kNN accuracy and trustworthiness of a 2-D map; key = the checkpoint's stamp + method."""
    return map_metrics(_points, _dataset)


def on_pick(chart_key: str, event, ids: list[int], area: bool) -> None:
    """The newest selection on either map becomes the page's selection (highlighted on both maps)."""
    if ids:
        st.session_state["map_selection"] = {"ids": ids, "area": area, "source": chart_key,
                                             "drawn_on": (drawn_as(chart_key), st.session_state.get("map_color"))}


def stamp(path, files) -> str:
    """A cache key for what is computed from a checkpoint: its folder and its files' stamp."""
    return f"{path}:{files}"


@st.cache_data(show_spinner=f"Measuring each image (at most {SAMPLE_MAX:,}) under the autoencoder and under PCA: "
                            "errors and nearest neighbours, once per checkpoint ...", max_entries=16)
def cached_per_image(key: str) -> PerImage:
    """AE vs PCA per image; key = both checkpoints' stamps."""
    return per_image(sel.model, sel.pca()[0], ds.images, codes, sel.pca_codes())


def describe(measure: PerImage, option: str, color_range) -> str:
    """What the per-image colour measured, in one caption."""
    pca_name = f"PCA d={sel.model.dim}"
    if option == "AE vs PCA: error difference":
        d = measure.difference
        text = (f"Colour: each image's reconstruction error (sum of squared pixel errors) under {sel.label} minus "
                f"under {pca_name}; blue where the autoencoder reconstructs it better, red where PCA does. "
                f"Scale centred at 0, clipped at ±{color_range[1]:.3g} (99th percentile of |difference|). "
                f"The autoencoder is better on **{(d < 0).mean():.1%}** of images; median difference "
                f"**{np.median(d):.3g}**.")
    else:
        other, shared = (("PCA's code space", measure.agree_pca) if option.endswith("PCA")
                         else ("pixel space", measure.agree_pixels))
        text = (f"Colour: the share of each image's {measure.k} nearest neighbours in {sel.label}'s code space that "
                f"are also among its {measure.k} nearest in {other} (euclidean): 1 = the same neighbours, about "
                f"{measure.chance:.4f} for unrelated spaces (k / (n − 1)). Mean **{shared.mean():.3f}**.")
    n = len(measure.rows)
    return text + (f" Measured on a random sample of {n:,} of {measure.n_total:,} images (neighbours found within "
                   "the sample); the others are grey." if measure.sampled else f" Measured on all {n:,} images.")


def show_extremes(measure: PerImage, title: str, positions: np.ndarray) -> None:
    """Originals, the autoencoder's and PCA's reconstructions, in three aligned strips with their errors."""
    rows = measure.rows[positions]
    x = ds.images[rows]
    st.markdown(f"**{title}**")
    show_row(x, [f"#{i}" for i in rows], width=56)
    for name, model in (("AE", sel.model), ("PCA", sel.pca()[0])):
        x_hat, errors = reconstruct_and_score(model, x)
        show_row(x_hat, [f"{name} {e:.1f}" for e in errors], width=56)


codes = sel.codes()  # (N, d)
c1, c2 = st.columns(2)
methods = methods_for(sel.model.dim)
method = c1.selectbox("Projection of the codes", methods, format_func=MAP_METHODS.get, key="map_method",
                      index=methods.index(preferred_method(sel.model.dim, sel.path)))
compares_pca = sel.pca_path is not None and not sel.model.baseline  # PCA itself: nothing to compare
colour_options = ((["label"] if ds.labels is not None else []) + list(ds.factors)
                  + (list(PER_IMAGE) if compares_pca else []))
if st.session_state.get("map_color") not in colour_options:  # e.g. an AE vs PCA colour kept from another checkpoint
    st.session_state.pop("map_color", None)
color_by = c2.selectbox("Colour by", colour_options or ["none"], key="map_color",
                        help="The AE vs PCA options colour each image by how the autoencoder compares with its PCA "
                             "baseline on it (see the caption below the choice).")
color = ds.factors.get(color_by) if color_by not in ("label", "none") else None
color_style = {}
measure = None
if color_by in PER_IMAGE:
    try:
        measure = cached_per_image(f"{stamp(sel.path, sel.stamp)}|{stamp(sel.pca_path, sel.pca_stamp)}")
    except ExplorerError as exc:
        st.warning(f"AE vs PCA per image: {exc}")
        color_by = "label" if ds.labels is not None else "none"
if measure is not None:
    values = {"AE vs PCA: error difference": measure.difference, "AE vs PCA: neighbours shared with PCA":
              measure.agree_pca, "AE vs PCA: neighbours shared with pixels": measure.agree_pixels}[color_by]
    title, scale = PER_IMAGE[color_by]
    color_range = symmetric_range(values) if scale == "diverging" else (0.0, 1.0)
    color = measure.on_all(values)
    color_style = dict(color_scale=scale, color_range=color_range, color_name=title)
    st.caption(describe(measure, color_by, color_range))

proj = projection_or_stop(codes, method, sel.path)

selection = st.session_state.get("map_selection") or {}
highlight = np.asarray(selection.get("ids", []), dtype=np.int64)
highlight = highlight[(highlight >= 0) & (highlight < len(ds))]
style = {**dict(labels=ds.labels, class_names=ds.class_names, color=color, color_name=color_by, grid=False),
         **color_style}


def highlight_on(chart_key: str, identity: str):
    """The selection, highlighted on both maps; except that a box or lasso is left to plotly's own outline on
    the map it was drawn on, while that map is drawn as it was (redrawing it costs the browser half a second)."""
    drawn = selection.get("area") and selection.get("drawn_on") == (drawn_as(chart_key, identity), color_by)
    return None if drawn else highlight

left, right = st.columns(2)
with left:
    st.subheader(f"{sel.label}: {MAP_METHODS[method]}")
    identity = f"{sel.path}:{method}"
    zoomable_map("map_model", identity, proj.points_, on_pick=partial(on_pick, "map_model"),
                 highlight=highlight_on("map_model", identity), **style)
    if proj.fitted_rows_ is not None:
        st.caption(f"{MAP_METHODS[method]} fitted on {len(proj.fitted_rows_):,} sampled codes; "
                   + ("the rest placed by UMAP's transform." if method == "umap" else
                      "the rest placed beside the nearest sampled code's point (t-SNE has no transform)."))
    m = cached_map_metrics(f"{stamp(sel.path, sel.stamp)}:{method}", proj.points_, ds)
    st.caption(" · ".join([f"kNN accuracy **{m['knn_acc']:.3f}**"] * ("knn_acc" in m)
                          + [f"trustworthiness **{m['trustworthiness']:.3f}**"]) + " (2-D map, held-out images)")
with right:
    pca_codes = sel.pca_codes()
    if pca_codes is None:
        st.info(f"No PCA baseline at d={sel.model.dim} for this dataset yet; training a model fits one beside it.")
    else:
        st.subheader("PCA baseline: first two principal components")
        base = cached_pca_map(str(sel.pca_path), sel.pca_stamp, pca_codes)
        zoomable_map("map_pca", str(sel.pca_path), base, on_pick=partial(on_pick, "map_pca"),
                     highlight=highlight_on("map_pca", str(sel.pca_path)), **style)
        m = cached_map_metrics(f"{stamp(sel.pca_path, sel.pca_stamp)}:baseline", base, ds)
        st.caption(" · ".join([f"kNN accuracy **{m['knn_acc']:.3f}**"] * ("knn_acc" in m)
                              + [f"trustworthiness **{m['trustworthiness']:.3f}**"]) + " (2-D map, held-out images)")



if measure is not None:
    st.subheader("AE vs PCA per image")
    most, least = measure.extremes(N_LISTED)
    st.caption(f"The {len(most)} images{' of the sample' if measure.sampled else ''} where {sel.label}'s "
               f"reconstruction error minus PCA d={sel.model.dim}'s is lowest (the autoencoder helps most) and "
               "highest (helps least). Rows: the image (#index), the autoencoder's reconstruction and PCA's, "
               "each with its error (sum of squared pixel errors).")
    left, right = st.columns(2)
    with left:
        show_extremes(measure, "Where the autoencoder helps most", most)
    with right:
        show_extremes(measure, "Where the autoencoder helps least", least)

if not len(highlight):
    st.info("Click a point to see its image and reconstruction (on a density map, the image nearest the spot); "
            "draw a box or lasso (toolbar) to see a group: every image inside it, however many.")
    st.stop()

label_of = (lambda i: ds.class_names[ds.labels[i]]) if ds.labels is not None else (lambda i: "-")
if st.button("Clear selection", key="map_clear",
             help="Also takes the maps out of the box or lasso tool, so that a click picks a single image again."):
    st.session_state.pop("map_selection", None)
    reset_tools("map_model", "map_pca")
    st.rerun()
if not selection.get("area") and len(highlight) == 1:
    i = int(highlight[0])
    st.subheader(f"Image {i} (label {label_of(i)})")
    x = ds.images[i : i + 1]
    x_model, (error,) = reconstruct_and_score(sel.model, x)
    row, captions = [x, x_model], ["image", f"{sel.label}: error {error:.1f}"]
    pca = sel.pca()
    if pca is not None:
        x_pca, (error,) = reconstruct_and_score(pca[0], x)
        row.append(x_pca)
        captions.append(f"PCA d={sel.model.dim}: error {error:.1f}")
    show_row(torch.cat(row), captions, width=140)
else:
    shown = highlight[:MAX_SHOWN]
    labels = ", ".join(f"{ds.class_names[k]}: {n}" for k, n in zip(*np.unique(ds.labels[highlight], return_counts=True))
                       ) if ds.labels is not None else "-"
    shown_note = f" (first {MAX_SHOWN} shown)" if len(highlight) > MAX_SHOWN else ""
    st.subheader(f"{len(highlight)} selected images{shown_note}")
    st.caption(f"labels: {labels}")
    show_row(ds.images[shown], [str(i) for i in shown], width=56)
