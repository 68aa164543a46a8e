"""The out-of-distribution gauge drawn for a new query image (explorer.ood computes it): where the query lands on the
model's map and on PCA's, its error as a percentile of held-out errors, and a warning when it is beyond them."""

from __future__ import annotations

import streamlit as st
import torch

from explorer.mapplot import view_figure
from explorer.ood import ErrorReference, held_out_reference, measure, verdict
from explorer.project import MAP_METHODS, preferred_method, project, stored_projection
from explorer.ui.state import cached_pca_map


@st.cache_resource(show_spinner="Scoring held-out images' errors once per checkpoint (the gauge's reference) ...",
                   max_entries=16)
def cached_reference(path: str, stamp: tuple, _model, _dataset) -> ErrorReference:
    return held_out_reference(_model, _dataset)


def model_map(sel):
    """The model's stored map (UMAP when stored, codes at d = 2), else its PCA map: seconds at most, stored."""
    codes = sel.codes()
    method = preferred_method(sel.model.dim, sel.path)
    return stored_projection(codes, method, sel.path) or project(codes, "pca" if sel.model.dim > 2 else "direct",
                                                                  sel.path)


def show_ood_gauge(sel, image: torch.Tensor) -> None:
    """Gauge a new query image (C, H, W) against the selection's model and its PCA baseline."""
    ds = sel.dataset
    reference = cached_reference(str(sel.path), sel.stamp, sel.model, ds)
    proj = model_map(sel)
    pca = sel.pca()
    pca_reference = None if pca is None else cached_reference(str(sel.pca_path), sel.pca_stamp, pca[0], ds)
    g = measure(image, sel.model, reference, proj, None if pca is None else pca[0], pca_reference)
    warning = verdict(g, sel.label, reference)
    if warning:
        st.warning(warning)
    sample = ("" if len(reference.errors) == reference.n_held_out
              else f" (an evenly spaced sample of {len(reference.errors):,} of {reference.n_held_out:,})")
    st.caption(f"Out-of-distribution gauge: the query's reconstruction error against those of held-out images"
               f"{sample}; above their {reference.percentile_cut:g}th percentile it is flagged.")
    style = dict(labels=ds.labels, class_names=ds.class_names, grid=False, height=320)
    cols = st.columns(2 if pca_reference is not None else 1)
    cols[0].metric(f"{sel.label}: error percentile", f"{g.percentile:.1f}", help=f"error {g.error:.1f}; "
                   f"{reference.percentile_cut:g}th percentile of held-out errors {reference.threshold:.1f}")
    title = f"The query (x) on the {MAP_METHODS[proj.method]} map of the {sel.label} codes"
    cols[0].plotly_chart(view_figure(proj.points_, clicked=g.spot, title=title, **style), key="similar_ood_model_map")
    if pca_reference is not None:
        cols[1].metric(f"PCA d={sel.model.dim}: error percentile", f"{g.pca_percentile:.1f}",
                       help=f"error {g.pca_error:.1f}; {pca_reference.percentile_cut:g}th percentile of held-out "
                            f"errors {pca_reference.threshold:.1f}" + (": flagged" if g.pca_flagged else ""))
        if g.pca_flagged:
            cols[1].caption(f"PCA d={sel.model.dim} is beyond its held-out errors too (above their "
                            f"{pca_reference.percentile_cut:g}th percentile).")
        base = cached_pca_map(str(sel.pca_path), sel.pca_stamp, sel.pca_codes())
        cols[1].plotly_chart(view_figure(base, clicked=g.pca_spot, title="The query (x) on PCA's own map "
                                         "(first two components)", **style), key="similar_ood_pca_map")
