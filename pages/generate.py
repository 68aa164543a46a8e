"""Generate: click anywhere on the map and see what the decoder makes of that spot; grids, sliders, interpolation."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from explorer import paths, reliability
from explorer.errors import ExplorerError
from explorer.evaluate import decode_all
from explorer.extent import map_extent, slider_ranges
from explorer.inverse import grid_points, interpolate
from explorer.mapplot import tile_images, upscale
from explorer.project import MAP_METHODS, methods_for, preferred_method
from explorer.selection import box_range, clicked_xy
from explorer.ui.mapview import zoomable_map
from explorer.ui.navigation import page_start
from explorer.ui.page_state import reset_on_change
from explorer.ui.state import projection_or_stop, show_row, sidebar, to_display

MAX_SLIDERS = 16
MAX_WAYPOINTS = 6  # clicked spots a path across the map runs through, the latest ones

page_start()
st.title("Generate")
sel = sidebar()
if sel is None:
    st.stop()
ds, model = sel.dataset, sel.model


def decode(z: np.ndarray) -> torch.Tensor:
    z = torch.from_numpy(np.array(z, dtype=np.float32))  # a copy: z may be read-only
    return decode_all(model, z)  # (n, C, H, W)


def big(image: torch.Tensor, px: int = 224) -> np.ndarray:
    """One image enlarged by whole pixels (st.image would blur a 28 x 28 digit)."""
    arr = to_display(image[None])[0]
    return upscale(arr, max(1, px // arr.shape[0]))


def on_map_select(event, rows, area) -> None:
    """A click (a data point or the invisible grid under it) or a box picks the spot to decode."""
    xy = clicked_xy(event)
    if xy is not None:
        st.session_state["gen_click"] = xy
        if not area:  # a box zooms the grid; only clicks are a path's spots
            st.session_state["gen_clicks"] = ((st.session_state.get("gen_clicks") or []) + [xy])[-MAX_WAYPOINTS:]
    box = box_range(event)
    if box is not None:
        st.session_state["gen_area"] = box


codes = sel.codes()  # (N, d)
methods = methods_for(model.dim)
preferred = preferred_method(model.dim, sel.path)
reset_on_change("generate_checkpoint", str(sel.path), {"gen_method": preferred})  # a new checkpoint: its best map
if st.session_state.get("gen_method") not in methods:  # dropped while another page ran
    st.session_state["gen_method"] = preferred
method = st.selectbox("Map", methods, format_func=MAP_METHODS.get, key="gen_method",
                      help="A spot on a PCA map becomes the point of the map's plane in code space: exact when d = 2, "
                           "for d > 2 the directions the map does not show stay at the mean. UMAP and t-SNE maps are "
                           "inverted by interpolating the codes around the spot.")
proj = projection_or_stop(codes, method, sel.path)
state_key = f"{sel.path}:{method}"
reset_on_change("generate_map", state_key, {"gen_click": None, "gen_area": None, "gen_clicks": []})  # old spots
click = st.session_state.get("gen_click")
stamp = sel.stamp  # in every cache key: a retrained model misses


@st.cache_resource(show_spinner="Decoding the data's own map spots once, to judge every other spot against ...",
                   max_entries=8)
def cached_reference(path: str, stamp: tuple, method: str) -> reliability.Reference:
    return reliability.for_projection(model, proj, codes, ds.images)


@st.cache_data(show_spinner="Measuring decode reliability over the view ...", max_entries=32)
def cached_heat(path: str, stamp: tuple, method: str, ranges: tuple) -> reliability.HeatLayer:
    return reliability.heat_layer(cached_reference(path, stamp, method), model, proj.inverse_transform, ranges)


def reference() -> reliability.Reference:
    return cached_reference(str(sel.path), stamp, method)


def add_heat_layer(fig: go.Figure, ranges) -> None:
    """The reliability heat layer under the points (over a density picture), transparent to clicks."""
    ranges = tuple(tuple(round(float(v), 6) for v in r) for r in ranges)
    layer = cached_heat(str(sel.path), stamp, method, ranges)
    fig.add_trace(go.Heatmap(x=layer.x, y=layer.y, z=layer.z, zmin=0, zmax=1, colorscale="RdYlGn", opacity=0.45,
                             hoverinfo="skip", name="reliability",  # 'skip': clicks go to the points and grid
                             colorbar=dict(title="reliability", thickness=12, x=1.0)))
    fig.data = fig.data[-1:] + fig.data[:-1]  # drawn first: under the points


def heat_caption(ref: reliability.Reference) -> str:
    """What the heat layer measured, and against how many images."""
    n = reliability.HEAT_GRID_N
    return (f"Decode reliability on a {n} x {n} grid over the view, from 0 to 1: 1 / (1 + e), e the decoding error "
            "of the spots of the nearest images as a multiple of the model's own reconstruction error, times a "
            f"falloff to 1/2 at {reliability.FALLOFF:.0f} neighbour spacings from the data (map and code)"
            + (" and the VAE prior's tail beyond its 99% ball" if model.samples_prior else "") + ". "
            + (f"Judged against a sample of {ref.n_reference:,} of the {ref.n_data:,} images."
               if ref.sampled else f"Judged against all {ref.n_data:,} images."))


def describe(rel: reliability.Reliability, i: int = 0) -> str:
    """What the score of spot i was made of, in words."""
    parts = [f"decoding the nearest images' spots errs {rel.local_error[i]:.1f} x the model's own error",
             f"{rel.data[i]:.1f} map spacings from the nearest image",
             f"its code {rel.code[i]:.1f} code spacings from the nearest code",
             f"round trip (decode, encode, map) lands {rel.trip[i]:.1f} map spacings away (shown, not scored)"]
    if rel.prior is not None:
        parts.append(f"prior term {rel.prior[i]:.2f}")
    return "; ".join(parts) + "."


map_area = st.container()  # drawn last, once the paths to show on it are known


# -- the learned manifold -----------------------------------------------------------------------
st.subheader("Decoded grid over the map")
area = st.session_state.get("gen_area")
g1, g2 = st.columns([1, 3])
n = g1.slider("Grid size", 4, 24, 12, key="gen_grid_n")
if area is None:
    area = map_extent(proj.points_)  # the bulk of the map, not its stragglers
    g1.caption("Whole map. Draw a box on the map (toolbar) to zoom the grid into that area.")
elif g1.button("Whole map", key="gen_whole"):
    st.session_state["gen_area"] = None
    st.rerun()
tiles = decode(proj.inverse_transform(grid_points(area[0], area[1], n)))  # (n * n, C, H, W)
picture = tile_images(tiles, n)
g2.image(upscale(picture, max(1, 640 // picture.shape[1])),
         caption=f"x {area[0][0]:.2f} .. {area[0][1]:.2f} (left to right), "
                 f"y {area[1][1]:.2f} .. {area[1][0]:.2f} (top to bottom)")

# -- sliders ------------------------------------------------------------------------------------
st.subheader("Move along each code dimension")
s1, s2 = st.columns([1, 3])
start = int(s1.number_input("Start from image", 0, len(ds) - 1, int(ds.test_idx[0]), key="gen_start"))
z0 = codes[start]
ranges = slider_ranges(codes)  # (d, 2)
shown = min(model.dim, MAX_SLIDERS)
z = z0.copy()
with s2:
    cols = st.columns(4)
    for j in range(shown):  # keys carry the start image, so a new start resets the sliders to its code
        z[j] = cols[j % 4].slider(f"z{j}", float(ranges[j, 0]), float(ranges[j, 1]), float(z0[j]),
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

# -- path across the map ------------------------------------------------------------------------
st.subheader("Path across the map")
q1, q2, q3, q4 = st.columns(4)
ends = q1.radio("Through", ["two images", "the clicked spots"], key="gen_path_ends",
                help=f"The clicked spots: the last {MAX_WAYPOINTS} spots clicked on the map, in the order clicked.")
frames = q4.slider("Frames", 4, 24, 10, key="gen_path_frames")
if ends == "two images":
    pa = int(q2.number_input("From image", 0, len(ds) - 1, int(ds.test_idx[0]), key="gen_path_from"))
    pb = int(q3.number_input("To image", 0, len(ds) - 1, default_b, key="gen_path_to"))
    stops, stop_rows = np.asarray(codes[[pa, pb]], dtype=np.float32), (pa, pb)
else:
    spots = st.session_state.get("gen_clicks") or []
    stops, stop_rows = (proj.inverse_transform(spots), (-1,) * len(spots)) if len(spots) >= 2 else (None, None)
    if spots and q2.button("Forget the clicked spots", key="gen_path_forget"):
        st.session_state["gen_clicks"] = []
        st.rerun()


@st.cache_data(show_spinner="Finding the shortest path through the k-nearest-neighbour graph of the codes ...",
               max_entries=32)
def cached_data_path(path: str, stamp: tuple, stops: tuple, rows: tuple) -> paths.DataPath:
    return paths.data_path_through(codes, np.array(stops), rows)


path_lines = []  # (name, map points (n, 2)) drawn on the map
large = len(codes) > reliability.REFERENCE_MAX  # seconds of kNN graph and reference decoding: on request
if large and q1.button("Find the paths", key="gen_path_go",
                       help=f"Builds a kNN graph on a sample of {paths.GRAPH_MAX:,} codes: seconds."):
    st.session_state["gen_path_for"] = state_key
if stops is None:
    st.info("Click two or more spots on the map (the path runs through them in the order clicked), "
            "or choose two images.")
elif large and st.session_state.get("gen_path_for") != state_key:
    st.info(f"{len(codes):,} images: the paths are found on request (Find the paths), not on opening the page.")
else:
    try:
        dpath = cached_data_path(str(sel.path), stamp, tuple(tuple(map(float, z)) for z in stops), stop_rows)
    except ExplorerError as exc:
        st.warning(str(exc))
        dpath = None
    if dpath is not None:
        straight = paths.straight_through(stops, frames)
        to_map = reference().to_map  # where the map puts a code (UMAP, t-SNE: near its nearest codes)
        path_lines = [("straight line", to_map(paths.straight_through(stops, 100))),
                      ("following the data", to_map(dpath.codes))]
        along = paths.evenly(dpath.codes, frames)
        legs = f" via {len(stops)} spots" if len(stops) > 2 else ""
        sample = (f"a sample of {dpath.graph_size:,} of the {dpath.n_data:,} codes (the ends included)"
                  if dpath.sampled else f"all {dpath.n_data:,} codes")
        profile = go.Figure()
        for name, z_path, what in [
                ("straight line", straight, ("the straight line" if len(stops) == 2 else "straight lines")
                                            + f" in code space{legs}, length {dpath.straight:.2f}, "
                                            f"{len(straight)} frames equally spaced"),
                ("following the data", along,
                 f"the shortest path{legs} through the {dpath.k}-nearest-neighbour graph of {sample}: "
                 f"{len(dpath.codes) - 1} steps from code to code, length {dpath.length:.2f} "
                 f"({dpath.length / max(dpath.straight, 1e-12):.2f} x the straight line)"
                 + (f", {len(along)} of its {len(dpath.codes)} codes shown, evenly spaced"
                    if len(along) < len(dpath.codes) else ""))]:
            images = decode(z_path)
            st.caption(f"{name}: {what}")
            show_row(images, width=64)
            shown = to_display(images)
            e1, e2, _ = st.columns([1, 1, 4])
            slug = name.replace(" ", "-")
            e1.download_button("PNG strip", paths.filmstrip_png(shown), f"{sel.path.name}-{slug}.png", "image/png",
                               key=f"gen_png_{slug}")
            e2.download_button("GIF", paths.filmstrip_gif(shown), f"{sel.path.name}-{slug}.gif", "image/gif",
                               key=f"gen_gif_{slug}")
            score = reliability.of_codes(reference(), model, z_path).score
            profile.add_trace(go.Scatter(x=paths.progress(z_path), y=score, mode="lines+markers", name=name))
        profile.update_layout(height=240, margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(title="reliability",
                              range=[0, 1.02]), xaxis=dict(title="fraction of the path's length in code space"))
        st.caption("Decode reliability along each path, judged in code space (the frames decode codes, not map spots): "
                   "1 / (1 + e), e the reconstruction error of the nearest images as a multiple of the model's median, "
                   f"times the falloff to 1/2 at {reliability.FALLOFF:.0f} code spacings from the nearest code"
                   + (" and the prior's tail" if model.samples_prior else "") + ".")
        st.plotly_chart(profile, key="gen_path_profile")

# -- click anywhere (the map at the top of the page) -----------------------------------------------


def decorate(fig: go.Figure, ranges) -> None:
    """The heat layer under the points, the paths over them."""
    if show_heat:
        add_heat_layer(fig, ranges)
    for name, line in path_lines:
        dash = "dot" if name == "straight line" else "solid"
        fig.add_trace(go.Scattergl(x=line[:, 0], y=line[:, 1], mode="lines", name=f"path: {name}", hoverinfo="skip",
                                   line=dict(width=3, color="black", dash=dash)))


with map_area:
    show_heat = st.toggle("Decode reliability", key="gen_reliability",
                          help="Colour the map by how far to trust what each spot decodes to (green: trust it).")
    map_col, out_col = st.columns([3, 2])
    with map_col:
        zoomable_map("gen_map", state_key, proj.points_, on_pick=on_map_select, selection_mode=("points", "box"),
                     decorate=decorate,
                     labels=ds.labels, class_names=ds.class_names, clicked=click, height=560)
        if show_heat:
            st.caption(heat_caption(reference()))
        if path_lines:
            st.caption("Black: the paths of Path across the map, the straight line in code space dotted, the path that "
                       "follows the data solid" + ("" if proj.is_linear else ", each code placed near its nearest "
                                                   "codes' map points as this map places codes") + ".")
    with out_col:
        if click is None:
            st.info("Click anywhere on the map, empty space included: the spot is mapped back to a code and decoded.")
        else:
            z = proj.inverse_transform([click])  # (1, d)
            st.image(big(decode(z)[0]), caption=f"decoded at ({click[0]:.2f}, {click[1]:.2f})")
            st.caption("code: " + ", ".join(f"{v:.2f}" for v in z[0][:MAX_SLIDERS])
                       + (" ..." if model.dim > MAX_SLIDERS else ""))
            rel = reliability.at_spots(reference(), model, proj.inverse_transform, [click])
            st.metric("Decode reliability of this spot", f"{rel.score[0]:.2f}",
                      help="0 to 1; the heat layer's score (toggle above the map).")
            st.caption(describe(rel))

# -- the prior ----------------------------------------------------------------------------------
if model.samples_prior:
    st.subheader("Samples from the prior N(0, I)")
    p1, p2 = st.columns([1, 3])
    n_samples = p1.slider("Samples", 4, 32, 16, key="gen_samples")
    seed = int(p1.number_input("Seed", 0, 10_000, 0, key="gen_seed"))
    with torch.no_grad():
        samples = model.sample(n_samples, generator=torch.Generator().manual_seed(seed))
    with p2:
        show_row(samples, width=72)
