"""Pre-train: a classifier from the autoencoder's encoder plus a linear head, against the same network from scratch."""

import plotly.express as px
import streamlit as st

from explorer.errors import ExplorerError
from explorer.experiments.pretrain import (
    LABELS_PER_CLASS,
    RUN_FOLDER,
    PretrainConfig,
    accuracy_curve,
    check_encoder,
    gap,
    load_results,
    run_pretrain,
    save_results,
    summary,
)
from explorer.ui.navigation import page_start
from explorer.ui.runs import cancelled_notice, run_with_progress
from explorer.ui.state import sidebar

page_start()
st.title("Pre-train")
st.caption("Encoder + linear head, trained on a few labels per class from the train split and scored on the "
           "held-out split. Pre-trained: the autoencoder's encoder; random: the same network, fresh weights. "
           "Frozen: only the head learns (a linear probe); fine-tuned: the probe, then encoder and head together.")
cancelled_notice("pretrain")
sel = sidebar()
if sel is None:
    st.stop()
try:
    check_encoder(sel.model)
    if sel.dataset.labels is None:
        raise ExplorerError(f"{sel.spec} has no labels; pre-training needs a labelled dataset")
except ExplorerError as exc:
    st.error(str(exc))
    st.stop()

with st.expander("Recompute"):
    cols = st.columns(3)
    defaults = PretrainConfig()
    steps = cols[0].number_input("Adam steps per stage", 10, 2000, defaults.train.steps, 10, key="pretrain_steps")
    n_seeds = cols[1].number_input("Label draws (seeds)", 1, 5, defaults.seeds, key="pretrain_seeds")
    cols[2].caption(f"Writes {RUN_FOLDER}/ inside the checkpoint. A few minutes on a CPU.")
    run = st.button("Recompute", key="pretrain_run")
frame = None
if run:
    config = PretrainConfig.make(steps=int(steps), seeds=int(n_seeds))
    frame = run_with_progress(lambda c, progress: run_pretrain(sel.model, sel.dataset, LABELS_PER_CLASS,
                                                              tuple(range(c.seeds)), c.train.steps, progress),
                              config, "pretrain")
    if frame is not None:
        save_results(frame, sel.path, config)
if frame is None:
    frame = load_results(sel.path)
if frame is None:
    st.info(f"No stored result for {sel.path.name} yet: open **Recompute** and press the button.")
    st.stop()

table = summary(frame)
if "10" in table.index:
    g = gap(frame, 10)
    row = table.loc["10"]
    m = st.columns(3)
    m[0].metric("10 labels per class, frozen", f"{row['pre-trained, frozen']:.1%}",
                f"{100 * g['frozen']:+.1f} points vs random init")
    m[1].metric("10 labels per class, fine-tuned", f"{row['pre-trained, fine-tuned']:.1%}",
                f"{100 * g['fine-tuned']:+.1f} points vs random init")
    m[2].metric("Best pre-trained vs best random", f"{100 * g['best']:+.1f} points")

fig = px.line(accuracy_curve(frame), x="labels_per_class", y="mean", error_y="std", color="init", line_dash="mode",
              markers=True, labels={"labels_per_class": "labels per class", "mean": "held-out accuracy"},
              category_orders={"labels_per_class": list(table.index)})
fig.update_yaxes(range=[0, 1], tickformat=".0%")
st.plotly_chart(fig, key="pretrain_chart")
st.caption(f"Mean over {frame['seed'].nunique()} label draws; bars: standard deviation. "
           f"{len(sel.dataset.test_idx)} held-out images.")
st.dataframe((100 * table).round(1).rename(columns=lambda c: f"{c} (%)"), key="pretrain_table")
