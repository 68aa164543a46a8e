"""Similar: the k nearest neighbours of a query image in the model's code space, in PCA space of the same d,
and in raw pixels, each with precision@k against the labels; for a new image, an out-of-distribution gauge."""

import numpy as np
import streamlit as st

from explorer.errors import ExplorerError
from explorer.mapplot import DENSITY_ABOVE
from explorer.neighbors import (
    APPROX_THRESHOLD,
    METRICS,
    SEARCH_METHODS,
    NeighborIndex,
    build_index,
    neighbors_of,
    stored_index,
)
from explorer.project import project
from explorer.query_image import data_style, from_canvas, from_upload
from explorer.search import PIXEL_SEARCH_MAX, Space, builds_at_once, pixels_searchable, wants_approximate
from explorer.ui.mapview import zoomable_map
from explorer.ui.navigation import page_start
from explorer.ui.oodview import show_ood_gauge
from explorer.ui.page_state import dataset_identity, reset_on_change
from explorer.ui.state import show_row, sidebar

SOURCES = ["Click a point", "Index", "Upload an image", "Draw"]

page_start()
st.title("Similar images")
st.caption("The nearest images to a query in the autoencoder's code space, in PCA space of the same size, "
           "and in raw pixels: which notion of 'similar' agrees with the labels?")
sel = sidebar()
if sel is None:
    st.stop()
ds = sel.dataset


@st.cache_resource(show_spinner=False, max_entries=24)
def cached_exact(key: tuple, metric: str, _vectors: np.ndarray) -> NeighborIndex:
    return NeighborIndex(metric=metric, method="exact").fit(_vectors)


@st.cache_resource(show_spinner="Reading the stored neighbour index (or building it: seconds) ...", max_entries=24)
def cached_approximate(key: tuple, ckpt_dir: str, metric: str, _vectors: np.ndarray, build: bool):
    """The index stored beside the checkpoint; when there is none, built and stored if `build`, else None."""
    index = stored_index(ckpt_dir, _vectors, metric)
    if index is None and build:
        index = build_index(ckpt_dir, _vectors, metric, method="approximate")  # kept here if the folder is read-only
    return index


def search_index(key: tuple, vectors: np.ndarray, ckpt_dir, metric: str, method: str) -> NeighborIndex:
    """Exact search, or the approximate index stored beside the checkpoint. A missing one is built here only
    for a small set (a moment) or when asked for; meanwhile exact search answers."""
    if not wants_approximate(len(vectors), method) or ckpt_dir is None:
        return cached_exact(key, metric, vectors)
    asked = st.session_state.setdefault("similar_build", set())  # indexes built on request stay in use
    build = key in asked or builds_at_once(len(vectors))
    index = cached_approximate(key, str(ckpt_dir), metric, vectors, build)
    if index is None and st.button(f"Build the approximate index of {len(vectors):,} codes (seconds; stored beside "
                                   "the checkpoint)", key=f"similar_build_{ckpt_dir}_{metric}"):
        asked.add(key)
        index = cached_approximate(key, str(ckpt_dir), metric, vectors, True)
    if index is None:
        st.caption(f"No stored approximate index for {ckpt_dir.name}: exact search answers meanwhile "
                   f"(or build it with `explorer neighbors {ckpt_dir} --index 0`).")
        return cached_exact(key, metric, vectors)
    return index


@st.cache_resource(show_spinner="Reading every image's pixels for raw-pixel search ...", max_entries=4)
def cached_pixels(spec: str, options: tuple, _images) -> np.ndarray:
    return _images[:].flatten(1).numpy()  # (N, pixels) float32


@st.cache_data(max_entries=16)
def cached_style(spec: str, options: tuple, _images):
    return data_style(_images)


def on_click(event, rows, area) -> None:
    if rows:
        st.session_state["similar_clicked"] = rows[0]


# ---- the three spaces ----------------------------------------------------------------------------------
codes = sel.codes()
spaces = {"code space": Space(f"{sel.label} code space", codes, sel.model, sel.path)}
pca = sel.pca()
if pca is not None:
    spaces["PCA space"] = Space(f"PCA space, d = {sel.model.dim}", sel.pca_codes(), pca[0], sel.pca_path)
n_pixels = int(np.prod(ds.image_shape))
if pixels_searchable(len(ds), ds.image_shape):
    spaces["pixels"] = Space(f"raw pixels, {n_pixels} values", cached_pixels(sel.spec, sel.dataset_options, ds.images))

# ---- controls ----------------------------------------------------------------------------------------
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
source = c1.radio("Query", SOURCES, horizontal=True, key="similar_source")
k = c2.slider("k neighbours", 1, 30, 10, key="similar_k")
metric = c3.radio("Distance", METRICS, horizontal=True, key="similar_metric")
method = c4.selectbox("Search", SEARCH_METHODS, key="similar_method",
                      help=f"auto: exact search up to {APPROX_THRESHOLD:,} images, above that the approximate "
                           "index stored beside the checkpoint. Raw pixels are always searched exactly.")

# ---- the query: a dataset row (its own vectors, itself excluded) or a new image (encoded here) -------
row, image = None, None
default_row = int(ds.test_idx[0])
reset_on_change("similar", dataset_identity(sel), {"similar_clicked": default_row, "similar_index": default_row})
st.session_state.setdefault("similar_index", default_row)  # a widget's value is dropped while another page runs
if source == "Click a point":
    points = project(codes, "pca", sel.path).points_  # (N, 2), stored beside the checkpoint; seconds at most
    zoomable_map("similar_map", str(sel.path), points, on_pick=on_click, selection_mode="points", labels=ds.labels,
                 class_names=ds.class_names, grid=False, height=380,
                 title=f"PCA of the {sel.label} codes: click a point")
    row = st.session_state["similar_clicked"]
    nearest_note = " (the one nearest the spot you clicked)" if len(codes) > DENSITY_ABOVE else ""
    st.caption(f"Query: image {row}{nearest_note}")
elif source == "Index":
    row = int(st.number_input(f"Image index (0 to {len(ds) - 1})", 0, len(ds) - 1, key="similar_index"))
else:
    style = cached_style(sel.spec, sel.dataset_options, ds.images)
    try:
        if source == "Upload an image":
            upload = st.file_uploader("An image file (PNG or JPEG)", type=["png", "jpg", "jpeg"], key="similar_upload")
            center = st.checkbox("Crop and centre the drawing like the dataset's images", True, key="similar_center",
                                 disabled=style.background is None,
                                 help="Photos of a digit on paper need it; an image taken from the dataset does not.")
            if upload is None:
                st.info("Upload a picture: a digit written on paper, or an image saved from the dataset.")
                st.stop()
            query = from_upload(upload.getvalue(), style, upload.name, center=center)
        else:
            from streamlit_drawable_canvas import st_canvas  # registers its component: only inside Streamlit

            dark = style.background != 1.0
            st.caption("Draw with the mouse; the drawing is cropped, scaled and centred like the dataset's images.")
            drawing = st_canvas(stroke_width=16, stroke_color="#FFFFFF" if dark else "#000000",
                                background_color="#000000" if dark else "#FFFFFF", width=224, height=224,
                                drawing_mode="freedraw", return_image_data=True, key="similar_canvas")
            if drawing.image_data is None or not (drawing.json_data or {}).get("objects"):
                st.info("Draw something on the canvas to find its neighbours.")
                st.stop()
            query = from_canvas(drawing.image_data, style)
    except ExplorerError as exc:
        st.error(str(exc))
        st.stop()
    image = query.image
    for note in query.notes:
        st.info(note)

# ---- show the query ----------------------------------------------------------------------------------
names = ds.class_names
query_label = None
qcol, lcol = st.columns([1, 4])
with qcol:
    if row is not None:
        query_label = None if ds.labels is None else int(ds.labels[row])
        caption = f"query: image {row}" + ("" if query_label is None else f", label {names[query_label]}")
        show_row(ds.images[row : row + 1], [caption], width=112)
    else:
        show_row(image[None], ["query, as the model sees it"], width=112)
if row is None and ds.labels is not None:
    choice = lcol.selectbox("What is it? (for precision@k)", ["don't know", *names], key="similar_label")
    query_label = None if choice == "don't know" else names.index(choice)
if image is not None:  # a new image: can the model represent it at all?
    show_ood_gauge(sel, image)

# ---- search each space -------------------------------------------------------------------------------
results = {}
for name, space in spaces.items():
    index = search_index(space.cache_key(sel.spec, sel.dataset_options, name), space.vectors, space.ckpt_dir, metric,
                         method)
    try:
        found = neighbors_of(index, space.query_vector(row, image), k, ds.labels, query_label, exclude=row)
    except ExplorerError as exc:
        st.error(str(exc))
        st.stop()
    results[name] = (space.title, index, found)

if query_label is not None:
    cols = st.columns(len(results))
    for col, (name, (_, _, found)) in zip(cols, results.items()):
        col.metric(f"precision@{k} in {name}", f"{found.precision:.2f}")

for title, index, found in results.values():
    st.subheader(f"In {title}")
    if found.precision is not None:
        st.caption(f"precision@{k} = **{found.precision:.2f}**: {int(round(found.precision * k))} of {k} share "
                   f"the query's label {names[query_label]}.")
    elif found.majority is not None:
        label, count = found.majority
        st.caption(f"Most neighbours are **{names[label]}** ({count} of {k}); choose the query's label above "
                   "for precision@k.")
    label_text = [f"{names[label]} · " for label in found.labels] if found.labels is not None else [""] * k
    captions = [f"{text}#{i} · {d:.2f}" for text, i, d in zip(label_text, found.indices, found.distances)]
    show_row(ds.images[found.indices], captions, width=80)
    if index.method_ == "approximate":
        st.caption(f"Approximate index (IVF: {index.n_probe_} of {len(index.centroids_):,} cells searched per query; "
                   f"built in {index.build_seconds_:.1f} s, stored beside the checkpoint): recall@10 against exact "
                   f"search **{index.recall_:.3f}**, measured on indexed images at build time.")
    else:
        st.caption(f"Exact search over {index.n_samples_:,} images, {metric} distance.")
if "pixels" not in spaces:
    st.caption(f"Raw pixels are not searched at this size ({len(ds):,} images of {n_pixels:,} values: more than "
               f"{PIXEL_SEARCH_MAX:,} values to hold in memory); code spaces are.")
