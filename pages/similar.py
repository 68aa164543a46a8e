"""Similar: the k nearest neighbours of a query image in the model's code space, in PCA space of the same d,
and in raw pixels, each with precision@k against the labels."""

import numpy as np
import streamlit as st

from explorer.errors import ExplorerError
from explorer.evaluate import encode_all
from explorer.mapplot import map_figure
from explorer.neighbors import APPROX_THRESHOLD, METHODS, METRICS, NeighborIndex, neighbors_of
from explorer.project import fingerprint, project
from explorer.query_image import data_style, from_canvas, from_upload
from explorer.selection import selected_ids
from explorer.ui.state import ensure_app_navigation, show_row, sidebar

SOURCES = ["Click a point", "Index", "Upload an image", "Draw"]
RECALL_QUERIES = 200

ensure_app_navigation()
st.title("Similar images")
st.caption("The nearest images to a query in the autoencoder's code space, in PCA space of the same size, "
           "and in raw pixels: which notion of 'similar' agrees with the labels?")
sel = sidebar()
if sel is None:
    st.stop()
ds = sel.dataset


@st.cache_resource(show_spinner="Building the neighbour index (the first approximate one in a session compiles "
                                "pynndescent's numba code: up to a minute) ...", max_entries=24)
def cached_index(key: tuple, metric: str, method: str, _vectors: np.ndarray) -> NeighborIndex:
    return NeighborIndex(metric=metric, method=method).fit(_vectors)


@st.cache_data(show_spinner="Measuring the approximate index's recall against exact search ...", max_entries=64)
def cached_recall(key: tuple, metric: str, method: str, k: int, _index: NeighborIndex) -> float:
    return _index.recall(k, n_queries=RECALL_QUERIES)


@st.cache_data(max_entries=16)
def cached_style(spec: str, options: tuple, _images):
    return data_style(_images)


# ---- the three spaces: name -> (title, vectors (N, D), encoder of a new image, or None for pixels) ----
codes = sel.codes()
spaces = {"code space": (f"{sel.label} code space", codes, sel.model)}
pca = sel.pca()
if pca is not None:
    spaces["PCA space"] = (f"PCA space, d = {sel.model.dim}", sel.pca_codes(), pca[0])
spaces["pixels"] = (f"raw pixels, {int(np.prod(ds.image_shape))} values", ds.images[:].flatten(1).numpy(), None)

# ---- controls ----------------------------------------------------------------------------------------
c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
source = c1.radio("Query", SOURCES, horizontal=True, key="similar_source")
k = c2.slider("k neighbours", 1, 30, 10, key="similar_k")
metric = c3.radio("Distance", METRICS, horizontal=True, key="similar_metric")
method = c4.selectbox("Search", METHODS, key="similar_method",
                      help=f"auto: exact search up to {APPROX_THRESHOLD:,} images, an approximate pynndescent index above")

# ---- the query: a dataset row (its own vectors, itself excluded) or a new image (encoded here) -------
row, image = None, None
default_row = int(ds.test_idx[0])
for state_key in ("similar_clicked", "similar_index"):  # none yet, or a row remembered from a larger dataset
    if st.session_state.get(state_key, len(ds)) >= len(ds):
        st.session_state[state_key] = default_row
if source == "Click a point":
    points = project(codes, "pca", sel.path).points_  # (N, 2), stored beside the checkpoint
    fig = map_figure(points, ds.labels, ds.class_names, grid=False, height=380,
                     title=f"PCA of the {sel.label} codes: click a point")
    event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key="similar_map")
    ids = selected_ids(event)
    if ids:
        st.session_state["similar_clicked"] = ids[0]
    row = st.session_state["similar_clicked"]
    if not ids:
        st.caption(f"No point clicked yet: showing image {row}.")
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

# ---- search each space -------------------------------------------------------------------------------
results = {}
for name, (title, vectors, encoder) in spaces.items():
    # pixels depend on the dataset alone; codes also on the model (the fingerprint catches a retrained one)
    key = (sel.spec, sel.dataset_options, name) + (() if encoder is None else (fingerprint(vectors),))
    index = cached_index(key, metric, method, vectors)
    if row is not None:
        vector = vectors[row]
    elif encoder is None:
        vector = image.flatten().numpy()
    else:
        vector = encode_all(encoder, image[None]).numpy()[0]
    try:
        found = neighbors_of(index, vector, k, ds.labels, query_label, exclude=row)
    except ExplorerError as exc:
        st.error(str(exc))
        st.stop()
    recall = cached_recall(key, metric, method, k, index) if index.method_ == "approximate" else None
    results[name] = (title, index, found, recall)

if query_label is not None:
    cols = st.columns(len(results))
    for col, (name, (_, _, found, _)) in zip(cols, results.items()):
        col.metric(f"precision@{k} in {name}", f"{found.precision:.2f}")

for name, (title, index, found, recall) in results.items():
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
    if recall is not None:
        st.caption(f"Approximate index (pynndescent, built in {index.build_seconds_:.1f} s): recall@{k} against "
                   f"exact search = **{recall:.3f}**, measured on {RECALL_QUERIES} images of the dataset.")
    else:
        st.caption(f"Exact search over {index.n_samples_:,} images, {metric} distance.")
