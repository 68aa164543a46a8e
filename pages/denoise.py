"""Denoise: corrupt held-out digits; compare a denoising AE, the same AE trained on clean images, and PCA."""

import plotly.express as px
import streamlit as st

from explorer.checkpoints import checkpoint_root
from explorer.errors import ExplorerError
from explorer.experiments.denoise import (
    NOISY,
    SHIPPED,
    default_level,
    default_levels,
    denoise,
    load_shipped,
    psnr_sweep,
)
from explorer.noise import NOISE_KINDS
from explorer.ui.navigation import page_start
from explorer.ui.state import cached_dataset, show_row, sidebar

page_start()
st.title("Denoise")
st.caption("The denoising AE saw corrupted inputs and learnt to output the clean image; the plain AE (same "
           "architecture) and PCA only saw clean ones. Scores are against the clean held-out images.")
sel = sidebar()
if sel is None:
    st.stop()


@st.cache_resource(show_spinner="Loading the denoising models ...")
def shipped_models(root: str):
    return load_shipped("mnist5k", root)


@st.cache_data(show_spinner="Denoising the held-out images ...", max_entries=16)
def scored(root: str, kind: str, level: float):
    return denoise(shipped_models(root), cached_dataset("mnist5k").x_test, kind, level, seed=0)


@st.cache_data(show_spinner="Sweeping the noise level ...", max_entries=8)
def sweep(root: str, kind: str):
    return psnr_sweep(shipped_models(root), cached_dataset("mnist5k").x_test, kind, default_levels(kind), seed=0)


root = str(checkpoint_root())
try:
    models = shipped_models(root)
except ExplorerError as exc:
    st.error(str(exc))
    st.stop()
if sel.spec != "mnist5k":
    st.info("This experiment uses the shipped mnist5k models ("
            + ", ".join(SHIPPED.values()) + "), whatever the sidebar shows.")
train_level = models["denoising AE"].config.noise_level
train_kind = models["denoising AE"].config.noise

cols = st.columns([1, 2, 1])
kind = cols[0].selectbox("Noise", NOISE_KINDS, index=NOISE_KINDS.index(train_kind), key="denoise_kind")
level = cols[1].slider("Level (gaussian: std; others: fraction of pixels)", 0.0, 1.0,
                       default_level(kind, models["denoising AE"]), 0.05, key=f"denoise_level_{kind}")
n = cols[2].slider("Images shown", 4, 16, 10, key="denoise_n")

result = scored(root, kind, float(level))
p, s = result.psnr, result.ssim
m = st.columns(3)
denoiser = p["denoising AE"]
m[0].metric("Denoising AE PSNR", f"{denoiser:.2f} dB", f"{denoiser - p['plain AE']:+.2f} dB vs plain AE")
m[1].metric("vs PCA", f"{p['PCA']:.2f} dB", f"{denoiser - p['PCA']:+.2f} dB for the denoiser", delta_color="off")
m[2].metric("Denoising AE SSIM", f"{s['denoising AE']:.3f}", f"{s['denoising AE'] - s['plain AE']:+.3f} vs plain AE")
st.caption(f"Mean over all {len(result.clean)} held-out images, corrupted once with a fixed seed. "
           f"The denoiser was trained with {train_kind} noise at level {train_level}.")

for name, images in [("clean", result.clean), (f"{NOISY}: {p[NOISY]:.1f} dB", result.noisy)] + [
        (f"{method}: {p[method]:.1f} dB, SSIM {s[method]:.3f}", out) for method, out in result.outputs.items()]:
    st.markdown(f"**{name}**")
    show_row(images[:n], width=56)

st.subheader("PSNR against noise level")
frame = sweep(root, kind)
fig = px.line(frame, x="level", y="psnr", color="method", markers=True,
              labels={"level": f"{kind} noise level", "psnr": "PSNR (dB)"})
fig.update_yaxes(range=[0, max(30.0, float(frame[frame.method != NOISY].psnr.max()) + 2)])
if kind == train_kind:
    fig.add_vline(x=train_level, line_dash="dot", annotation_text="training level")
st.plotly_chart(fig, key="denoise_chart")
st.dataframe(result.table().round(3), key="denoise_table")
