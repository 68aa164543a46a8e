"""Overview: what is loaded, and held-out images beside their reconstructions by the model and by PCA."""

import streamlit as st

from explorer.evaluate import reconstruct
from explorer.metrics import recon_sse
from explorer.ui.state import ensure_app_navigation, show_row, sidebar

ensure_app_navigation()
st.title("Latent Explorer")
st.caption("See what an autoencoder learns, next to the PCA baseline at the same code size.")
sel = sidebar()
if sel is None:
    st.stop()

m, p = sel.config.get("metrics", {}), sel.config.get("pca_metrics", {})
cols = st.columns(4)
cols[0].metric("Dataset", sel.spec, f"{len(sel.dataset)} images", delta_color="off")
cols[1].metric("Model", sel.model.family, f"d = {sel.model.dim}", delta_color="off")
if "recon_sse" in m:
    cols[2].metric("Held-out error", f"{m['recon_sse']:.2f}", f"{m['recon_sse'] - p['recon_sse']:+.2f} vs PCA",
                   delta_color="inverse")
if "knn_acc" in m:
    cols[3].metric("kNN accuracy", f"{m['knn_acc']:.3f}", f"{m['knn_acc'] - p['knn_acc']:+.3f} vs PCA")

n = st.slider("Held-out images shown", 4, 16, 10, key="overview_n")
x = sel.dataset.x_test[:n]
st.subheader("Held-out images")
show_row(x)
x_model = reconstruct(sel.model, x)
st.subheader(f"{sel.label}: error {recon_sse(x_model, x):.2f} per image")
show_row(x_model)
pca = sel.pca()
if pca is not None:
    x_pca = reconstruct(pca[0], x)
    st.subheader(f"PCA d={sel.model.dim}: error {recon_sse(x_pca, x):.2f} per image")
    show_row(x_pca)
else:
    st.info(f"No PCA baseline at d={sel.model.dim} for this dataset yet; training a model fits one.")
