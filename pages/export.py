"""Export: the codes as CSV or Parquet, the 2-D map as HTML and PNG, and TensorBoard Projector files."""

import streamlit as st

from explorer import export
from explorer.checkpoints import dataset_folder
from explorer.errors import ExplorerError
from explorer.ui.navigation import page_start
from explorer.ui.state import sidebar

page_start()
st.title("Export")
sel = sidebar()
if sel is None:
    st.stop()

codes = sel.codes()  # (N, d)
frame = export.codes_frame(codes, sel.dataset)
stem = f"{dataset_folder(sel.spec)}-{sel.path.name}"
st.caption(f"{len(codes)} images of {sel.spec} through **{sel.path.name}** (d = {codes.shape[1]}). "
           "Files are made when you click, and the page stays as it is.")

# -- codes --------------------------------------------------------------------------------------------
st.subheader("Codes")
fmt = st.radio("Format", ["csv", "parquet"], horizontal=True, key="export_format", format_func=str.upper)
st.download_button(f"Download codes ({fmt.upper()})", data=lambda: export.table_bytes(frame, fmt),
                   file_name=f"{stem}-codes.{fmt}", mime="text/csv" if fmt == "csv" else "application/octet-stream",
                   on_click="ignore", key="export_codes")
st.dataframe(frame.head(8), hide_index=True)


# -- the 2-D map ------------------------------------------------------------------------------------
@st.cache_data(show_spinner="Drawing the map ...", max_entries=16)
def map_png(path: str, method: str, _points, _frame, title: str) -> bytes:
    return export.map_png(_points, _frame, title)


st.subheader("2-D map")
linear = "direct" if codes.shape[1] == 2 else "pca"
methods = [linear] + [m for m in sel.checkpoint.stored_maps if m not in ("direct", "pca")]
method = st.selectbox("Map", methods, key="export_map",
                      help="The codes themselves at d = 2, else PCA of the codes; UMAP / t-SNE once the "
                           "Latent map page has computed and stored them.")
try:
    points, method = export.map_points(codes, sel.path, method)
except ExplorerError as exc:
    st.error(str(exc))
    st.stop()
title = f"{sel.spec} {sel.path.name}: {method} map"
png = map_png(str(sel.path), method, points, frame, title)
c1, c2 = st.columns(2)
c1.download_button("Download map (HTML)", data=lambda: export.map_html(points, frame, title),
                   file_name=f"{stem}-{method}-map.html", mime="text/html", on_click="ignore", key="export_html")
c2.download_button("Download map (PNG)", data=png, file_name=f"{stem}-{method}-map.png", mime="image/png",
                   on_click="ignore", key="export_png")
st.image(png, width=640)

# -- TensorBoard Projector --------------------------------------------------------------------------------
st.subheader("TensorBoard Projector")
limit = min(len(codes), export.projector_limit(sel.dataset.image_shape))
n = st.number_input("Images", 1, limit, min(limit, 5000), key="export_projector_n",
                    help="The first N images; the sprite sheet may be at most 8192 px wide.")
st.download_button("Download Projector files (zip)",
                   data=lambda: export.projector_zip(codes[:n], frame.iloc[:n], sel.dataset.images[:n].numpy()),
                   file_name=f"{stem}-projector.zip", mime="application/zip", on_click="ignore", key="export_projector")
st.markdown("Unzip, then in TensorBoard's Projector (or projector.tensorflow.org) *Load* `tensors.tsv` and "
            "`metadata.tsv`, and the sprite from `projector_config.pbtxt`.")
