"""Overview: what is loaded, and held-out images of every class beside their reconstructions by the model and by PCA."""

import numpy as np
import streamlit as st

from explorer.evaluate import reconstruct_and_score
from explorer.examples import MAX_CLASSES, examples_per_class
from explorer.ui.navigation import page_start
from explorer.ui.state import show_row, sidebar

page_start()
st.title("Latent Explorer")
st.caption("See what an autoencoder learns, next to the PCA baseline at the same code size.")
sel = sidebar()
if sel is None:
    st.stop()
ds = sel.dataset

m, p = sel.config.get("metrics", {}), sel.config.get("pca_metrics", {})
is_pca = sel.model.baseline  # the baseline itself: no difference to show
cols = st.columns(4)
cols[0].metric("Dataset", sel.spec)
cols[1].metric("Model", sel.label)
if "recon_sse" in m:
    cols[2].metric("Held-out error", f"{m['recon_sse']:.2f}",
                   None if is_pca or "recon_sse" not in p else f"{m['recon_sse'] - p['recon_sse']:+.2f} vs PCA",
                   delta_color="inverse")
if "knn_acc" in m:
    cols[3].metric("kNN accuracy", f"{m['knn_acc']:.3f}",
                   None if is_pca or "knn_acc" not in p else f"{m['knn_acc'] - p['knn_acc']:+.3f} vs PCA")
st.caption(f"{len(ds):,} images of {' x '.join(map(str, ds.image_shape))}, {len(ds.test_idx):,} held out; "
           f"code size d = {sel.model.dim}. Errors are sums of squares per held-out image"
           + ("." if is_pca else "; the arrows compare with PCA at the same d."))

labelled = ds.labels is not None
n = st.slider("Held-out images per class" if labelled else "Held-out images shown, in rows of 10", 1, 4, 2,
              key="overview_n")
rows = examples_per_class(ds.test_idx, ds.labels, n)
x = ds.images[rows]
names = ds.class_names or ([str(k) for k in range(int(ds.labels.max()) + 1)] if labelled else None)
captions = [names[k] for k in ds.labels[rows]] if labelled else None
n_classes = len(np.unique(ds.y_test)) if labelled else 0
st.subheader(f"Held-out images: {n} of every class" if labelled else "Held-out images")
if n_classes > MAX_CLASSES:
    st.caption(f"The first {MAX_CLASSES} of {n_classes} classes.")
show_row(x, captions)
x_model, errors = reconstruct_and_score(sel.model, x)
st.subheader(f"{sel.label}: error {errors.mean():.2f} per image")
show_row(x_model)
pca = sel.pca()
if pca is not None:
    x_pca, errors = reconstruct_and_score(pca[0], x)
    st.subheader(f"PCA d={sel.model.dim}: error {errors.mean():.2f} per image")
    show_row(x_pca)
else:
    st.info(f"No PCA baseline at d={sel.model.dim} for this dataset yet; training a model fits one.")
