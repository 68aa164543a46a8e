"""Generate: click anywhere on the map and see what the decoder makes of that spot; grids, sliders, interpolation."""

import numpy as np
import streamlit as st
import torch

from explorer.evaluate import decode_all
from explorer.inverse import grid_points, interpolate
from explorer.mapplot import tile_images, upscale
from explorer.project import METHODS, methods_for, preferred_method
from explorer.selection import box_range, clicked_xy
from explorer.ui.mapview import zoomable_map
from explorer.ui.state import ensure_app_navigation, projection_or_stop, show_row, sidebar, to_display

MAX_SLIDERS = 16

ensure_app_navigation()
st.title("Generate")
sel = sidebar()
if sel is None:
    st.stop()
ds, model = sel.dataset, sel.model


def decode(z: np.ndarray) -> torch.Tensor:
    return decode_all(model, torch.from_numpy(np.array(z, dtype=np.float32)))  # (n, C, H, W); a copy: z may be read-only


def big(image: torch.Tensor, px: int = 224) -> np.ndarray:
    """One image enlarged by whole pixels (st.image would blur a 28 x 28 digit)."""
    arr = to_display(image[None])[0]
    return upscale(arr, max(1, px // arr.shape[0]))


def on_map_select(event, rows, area) -> None:
    """A click (a data point or the invisible grid under it) or a box picks the spot to decode."""
    xy = clicked_xy(event)
    if xy is not None:
        st.session_state["gen_click"] = xy
    box = box_range(event)
    if box is not None:
        st.session_state["gen_area"] = box


codes = sel.codes()  # (N, d)
methods = methods_for(model.dim)
preferred = preferred_method(model.dim, sel.path)
if st.session_state.get("gen_method") not in methods or st.session_state.get("gen_ckpt") != str(sel.path):
    st.session_state.update(gen_method=preferred, gen_ckpt=str(sel.path))  # a new checkpoint starts on its best map
method = st.selectbox("Map", methods, format_func=METHODS.get, key="gen_method",
                      help="A spot on a PCA map becomes the point of the map's plane in code space: exact when d = 2, "
                           "for d > 2 the directions the map does not show stay at the mean. UMAP and t-SNE maps are "
                           "inverted by interpolating the codes around the spot.")
proj = projection_or_stop(codes, method, sel.path)
state_key = f"{sel.path}:{method}"
if st.session_state.get("gen_state_key") != state_key:  # another map: old spots mean nothing here
    st.session_state.update(gen_state_key=state_key, gen_click=None, gen_area=None)
click = st.session_state.get("gen_click")

# -- click anywhere -----------------------------------------------------------------------------
map_col, out_col = st.columns([3, 2])
with map_col:
    zoomable_map("gen_map", state_key, proj.points_, on_pick=on_map_select, selection_mode=("points", "box"),
                 labels=ds.labels, class_names=ds.class_names, clicked=click, height=560)
with out_col:
    if click is None:
        st.info("Click anywhere on the map, empty space included: the spot is mapped back to a code and decoded.")
    else:
        z = proj.inverse_transform([click])  # (1, d)
        st.image(big(decode(z)[0]), caption=f"decoded at ({click[0]:.2f}, {click[1]:.2f})")
        st.caption("code: " + ", ".join(f"{v:.2f}" for v in z[0][:MAX_SLIDERS]) + (" ..." if model.dim > MAX_SLIDERS else ""))

# -- the learned manifold -----------------------------------------------------------------------
st.subheader("Decoded grid over the map")
area = st.session_state.get("gen_area")
g1, g2 = st.columns([1, 3])
n = g1.slider("Grid size", 4, 24, 12, key="gen_grid_n")
if area is None:
    lo, hi = np.percentile(proj.points_, [1, 99], axis=0)  # the bulk of the map, not its stragglers
    area = ((float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1])))
    g1.caption("Whole map. Draw a box on the map (toolbar) to zoom the grid into that area.")
elif g1.button("Whole map", key="gen_whole"):
    st.session_state["gen_area"] = None
    st.rerun()
tiles = decode(proj.inverse_transform(grid_points(area[0], area[1], n)))  # (n * n, C, H, W)
picture = tile_images(tiles, n)
g2.image(upscale(picture, max(1, 640 // picture.shape[1])),
         caption=f"x {area[0][0]:.2f} .. {area[0][1]:.2f} (left to right), y {area[1][1]:.2f} .. {area[1][0]:.2f} (top to bottom)")

# -- sliders ------------------------------------------------------------------------------------
st.subheader("Move along each code dimension")
s1, s2 = st.columns([1, 3])
start = int(s1.number_input("Start from image", 0, len(ds) - 1, int(ds.test_idx[0]), key="gen_start"))
z0 = codes[start]
lo, hi = codes.min(0), codes.max(0)
shown = min(model.dim, MAX_SLIDERS)
z = z0.copy()
with s2:
    cols = st.columns(4)
    for j in range(shown):  # keys carry the start image, so a new start resets the sliders to its code
        span = float(hi[j] - lo[j]) or 1.0
        z[j] = cols[j % 4].slider(f"z{j}", float(lo[j] - 0.1 * span), float(hi[j] + 0.1 * span), float(z0[j]),
                                  key=f"gen_dim_{sel.path.name}_{start}_{j}")
    if model.dim > shown:
        st.caption(f"Dimensions {shown}..{model.dim - 1} stay at image {start}'s code.")
show_row(torch.cat([ds.images[start : start + 1], decode(z0[None]), decode(z[None])]),
         ["image", "its code decoded", "moved code decoded"], width=140)

# -- interpolation ------------------------------------------------------------------------------
st.subheader("Interpolate between two images")
i1, i2, i3 = st.columns(3)
default_b = int(next((i for i in ds.test_idx if ds.labels is None or ds.labels[i] != ds.labels[ds.test_idx[0]]), 1))
a = int(i1.number_input("From image", 0, len(ds) - 1, int(ds.test_idx[0]), key="gen_from"))
b = int(i2.number_input("To image", 0, len(ds) - 1, default_b, key="gen_to"))
steps = i3.slider("Steps", 3, 16, 10, key="gen_steps")
for kind in ("linear", "spherical"):
    st.caption(kind)
    strip = decode(interpolate(codes[a], codes[b], steps, kind))
    show_row(torch.cat([ds.images[a : a + 1], strip, ds.images[b : b + 1]]), width=72)

# -- the prior ----------------------------------------------------------------------------------
if hasattr(model, "sample"):
    st.subheader("Samples from the prior N(0, I)")
    p1, p2 = st.columns([1, 3])
    n_samples = p1.slider("Samples", 4, 32, 16, key="gen_samples")
    seed = int(p1.number_input("Seed", 0, 10_000, 0, key="gen_seed"))
    with torch.no_grad():
        samples = model.sample(n_samples, generator=torch.Generator().manual_seed(seed))
    with p2:
        show_row(samples, width=72)
