"""Latent map: the codes in 2-D beside the PCA baseline's own 2-D map of the same images; click and select."""

from functools import partial

import numpy as np
import streamlit as st
import torch

from explorer.evaluate import reconstruct
from explorer.project import METHODS, baseline_points, map_metrics, methods_for, preferred_method
from explorer.ui.mapview import drawn_as, reset_tools, zoomable_map
from explorer.ui.state import ensure_app_navigation, projection_or_stop, show_row, sidebar

MAX_SHOWN = 120  # images drawn for a box / lasso selection

ensure_app_navigation()
st.title("Latent map")
sel = sidebar()
if sel is None:
    st.stop()
ds = sel.dataset


@st.cache_data(show_spinner="Measuring the map ...", max_entries=64)
def cached_map_metrics(key: str, _points: np.ndarray, _dataset) -> dict:
    """kNN accuracy and trustworthiness of a 2-D map; key = checkpoint path + weights mtime + method."""
    return map_metrics(_points, _dataset)


def on_pick(chart_key: str, event, ids: list[int], area: bool) -> None:
    """The newest selection on either map becomes the page's selection (highlighted on both maps)."""
    if ids:
        st.session_state["map_selection"] = {"ids": ids, "area": area, "source": chart_key,
                                             "drawn_on": (drawn_as(chart_key), st.session_state.get("map_color"))}


@st.cache_resource(max_entries=8)
def cached_baseline(key: str, _pca_codes: np.ndarray) -> np.ndarray:
    """PCA's own 2-D map, one array per checkpoint (so its density picture is drawn once, not per click)."""
    return np.ascontiguousarray(baseline_points(_pca_codes))


def stamp(path) -> str:
    return f"{path}:{(path / 'model.safetensors').stat().st_mtime}"


codes = sel.codes()  # (N, d)
c1, c2 = st.columns(2)
methods = methods_for(sel.model.dim)
method = c1.selectbox("Projection of the codes", methods, format_func=METHODS.get, key="map_method",
                      index=methods.index(preferred_method(sel.model.dim, sel.path)))
colour_options = (["label"] if ds.labels is not None else []) + list(ds.factors)
color_by = c2.selectbox("Colour by", colour_options or ["none"], key="map_color")
color = ds.factors.get(color_by) if color_by not in ("label", "none") else None

proj = projection_or_stop(codes, method, sel.path)

selection = st.session_state.get("map_selection") or {}
highlight = np.asarray(selection.get("ids", []), dtype=np.int64)
highlight = highlight[(highlight >= 0) & (highlight < len(ds))]
style = dict(labels=ds.labels, class_names=ds.class_names, color=color, color_name=color_by, grid=False)


def highlight_on(chart_key: str, identity: str):
    """The selection, highlighted on both maps; except that a box or lasso is left to plotly's own outline on
    the map it was drawn on, while that map is drawn as it was (redrawing it costs the browser half a second)."""
    drawn = selection.get("area") and selection.get("drawn_on") == (drawn_as(chart_key, identity), color_by)
    return None if drawn else highlight

left, right = st.columns(2)
with left:
    st.subheader(f"{sel.label}: {METHODS[method]}")
    identity = f"{sel.path}:{method}"
    zoomable_map("map_model", identity, proj.points_, on_pick=partial(on_pick, "map_model"),
                 highlight=highlight_on("map_model", identity), **style)
    if proj.fitted_rows_ is not None:
        st.caption(f"{METHODS[method]} fitted on {len(proj.fitted_rows_):,} sampled codes; "
                   + ("the rest placed by UMAP's transform." if method == "umap" else
                      "the rest placed beside the nearest sampled code's point (t-SNE has no transform)."))
    m = cached_map_metrics(f"{stamp(sel.path)}:{method}", proj.points_, ds)
    st.caption(" · ".join([f"kNN accuracy **{m['knn_acc']:.3f}**"] * ("knn_acc" in m)
                          + [f"trustworthiness **{m['trustworthiness']:.3f}**"]) + " (2-D map, held-out images)")
with right:
    pca_codes = sel.pca_codes()
    if pca_codes is None:
        st.info(f"No PCA baseline at d={sel.model.dim} for this dataset yet; training a model fits one beside it.")
    else:
        st.subheader("PCA baseline: first two principal components")
        base = cached_baseline(stamp(sel.pca_path), pca_codes)
        zoomable_map("map_pca", str(sel.pca_path), base, on_pick=partial(on_pick, "map_pca"),
                     highlight=highlight_on("map_pca", str(sel.pca_path)), **style)
        m = cached_map_metrics(f"{stamp(sel.pca_path)}:baseline", base, ds)
        st.caption(" · ".join([f"kNN accuracy **{m['knn_acc']:.3f}**"] * ("knn_acc" in m)
                              + [f"trustworthiness **{m['trustworthiness']:.3f}**"]) + " (2-D map, held-out images)")

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
    row = [x, reconstruct(sel.model, x)]
    captions = ["image", sel.label]
    pca = sel.pca()
    if pca is not None:
        row.append(reconstruct(pca[0], x))
        captions.append(f"PCA d={sel.model.dim}")
    show_row(torch.cat(row), captions, width=140)
else:
    shown = highlight[:MAX_SHOWN]
    labels = ", ".join(f"{ds.class_names[k]}: {n}" for k, n in zip(*np.unique(ds.labels[highlight], return_counts=True))
                       ) if ds.labels is not None else "-"
    st.subheader(f"{len(highlight)} selected images" + (f" (first {MAX_SHOWN} shown)" if len(highlight) > MAX_SHOWN else ""))
    st.caption(f"labels: {labels}")
    show_row(ds.images[shown], [str(i) for i in shown], width=56)
