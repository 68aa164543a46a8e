"""Compare: PCA against every autoencoder of the dataset on the same held-out split."""

import streamlit as st

from explorer import compare
from explorer.checkpoints import files_stamp
from explorer.errors import ExplorerError
from explorer.ui.navigation import page_start
from explorer.ui.state import cached_dataset, cached_model, checkpoints_by_dataset, show_row, sidebar

page_start()
st.title("Compare with PCA")
st.caption("Every number is on the same held-out images. PCA's curve runs over every code size d; "
           "each autoencoder family is a line through its checkpoints.")
sel = sidebar()
if sel is None:
    st.stop()


@st.cache_data(show_spinner="Measuring PCA over every code size ...", max_entries=8)
def pca_curve(spec: str, options: tuple, dims: tuple):
    return compare.pca_curve(cached_dataset(spec, *options), knn_dims=sorted(set(compare.KNN_DIMS) | set(dims)))


@st.cache_data(max_entries=8)
def total_sse(spec: str, options: tuple) -> float:
    return compare.heldout_total_sse(cached_dataset(spec, *options))


table = compare.checkpoint_table(checkpoints_by_dataset()[sel.spec], image_shape=sel.dataset.image_shape,
                                 total_sse=total_sse(sel.spec, sel.dataset_options))
curve = pca_curve(sel.spec, sel.dataset_options, tuple(sorted(set(table["dim"]))))

st.subheader(f"{sel.spec}: {len(table)} checkpoints")
pca_at = curve.set_index("dim")["recon_sse"].get(sel.model.dim)
selected_error = sel.config.get("metrics", {}).get("recon_sse", float("nan"))
st.markdown(f"Selected **{sel.path.name}**: held-out error **{selected_error:.2f}**"
            + (f", PCA at d = {sel.model.dim}: **{pca_at:.2f}**" if pca_at is not None else ""))
shown = table.drop(columns=["path"]).rename(columns={"recon_sse": "held-out error", "error_vs_pca": "error / PCA's"})
st.dataframe(shown, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.4g") for c in shown.select_dtypes("number")})

charts = [m for m in ("recon_sse", "explained_variance", "knn_acc", "trustworthiness") if m in curve or m in table]
for row in range(0, len(charts), 2):
    cols = st.columns(2)
    for col, metric in zip(cols, charts[row:row + 2]):
        col.plotly_chart(compare.metric_figure(curve, table, metric), key=f"compare_{metric}")

# -- the same held-out images through each checkpoint -------------------------------------------------
st.subheader("Reconstructions side by side")
n = st.slider("Held-out images", 4, 16, 8, key="compare_n")
names = list(table["checkpoint"])
default = [c for c in names if c.endswith(f"-d{sel.model.dim}")] or [sel.path.name]
# keyed by the sidebar's choice, so picking another checkpoint there resets this list to its d
chosen = st.multiselect("Checkpoints", names, default=default, key=f"compare_ckpts_{sel.spec}_{sel.path.name}")
x = sel.dataset.x_test[:n]
st.markdown("**Held-out images**")
show_row(x)
paths = compare.checkpoint_paths(table)
models = {}
for name in chosen:
    path = paths[name]
    try:
        models[name] = cached_model(str(path), files_stamp(path), sel.dataset.image_shape)[0]
    except (ExplorerError, OSError) as exc:
        st.error(f"{name}: {exc}")
for name, (x_hat, err) in compare.reconstructions(models, x).items():
    st.markdown(f"**{name}**: error {err:.2f} per image")
    show_row(x_hat)
