"""Train: pick data, a model family, a code size and hyper-parameters; watch the loss live; save a checkpoint.

Streamlit reruns the script on any click, which raises inside the running training loop at its next
st.* call and stops it. A job record (a plain dict in session_state, mutated in place so that writing
to it is not itself an interruption point) tells the next run whether the last training finished or
was stopped. Nothing half-written can reach disk: train_checkpoint saves only after training, and
saves atomically.
"""

import pandas as pd
import streamlit as st

from explorer.checkpoints import check_name, checkpoint_name, checkpoint_root, dataset_folder
from explorer.errors import ExplorerError
from explorer.models import MODELS
from explorer.noise import NOISE_KINDS
from explorer.pipeline import train_checkpoint
from explorer.train import TrainConfig
from explorer.ui.state import cached_dataset, ensure_app_navigation, sidebar

DATASETS = {"mnist5k": "MNIST, 5,000 digits (28 x 28)", "digits": "scikit-learn digits (8 x 8)",
            "sprites": "sprites with known factors (32 x 32)", "folder": "my own images (folder:PATH)"}
FAMILIES = [f for f in MODELS if f != "pca"]  # PCA is fitted beside every model anyway
BACKBONE_FAMILIES = ("sparse-ae", "denoising-ae", "vae")  # the others fix their own backbone


def apply_finished_job() -> None:
    """After a finished training: select the new checkpoint in the sidebar (before the sidebar draws)."""
    job = st.session_state.get("train_job")
    if job and job["state"] == "done" and not job.get("selected"):
        job["selected"] = True
        st.session_state["dataset"] = job["spec"]
        st.session_state["checkpoint"] = job["name"]


def history_frame(history: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(history, columns=["epoch", "train", "held-out"]).set_index("epoch")


apply_finished_job()
ensure_app_navigation()
st.title("Train a model")
sel = sidebar()  # an empty checkpoint root is fine here: this page makes the first one

job = st.session_state.get("train_job")
if job and job["state"] == "running":  # the run that trained was stopped by a click (Cancel or any widget)
    job["state"] = "cancelled"
    st.warning(f"Training cancelled at epoch {job['epoch']} of {job['epochs']}; nothing was saved.")

# -- what to train ----------------------------------------------------------------------------------
left, right = st.columns(2)
with left:
    options = list(DATASETS)
    default = options.index(sel.spec) if sel is not None and sel.spec in options else 0
    choice = st.selectbox("Dataset", options, index=default, format_func=lambda k: f"{k}: {DATASETS[k]}",
                          key="train_dataset")
    spec = choice
    if choice == "folder":
        folder = st.text_input("Folder or .npz / .npy file", key="train_folder",
                               placeholder="/path/to/images (sub-folders become labels)")
        spec = f"folder:{folder.strip()}"
    family = st.selectbox("Model family", FAMILIES, index=FAMILIES.index("mlp-ae"), key="train_family")
    dim = st.number_input("Code size d", 1, 512, 2, key="train_dim")
    name = st.text_input("Checkpoint name", key="train_name", placeholder=checkpoint_name(family, int(dim)),
                         help="Defaults to <family>-d<d>; a different name keeps an existing checkpoint.")
    overwrite = st.checkbox("Overwrite a checkpoint of the same name", key="train_overwrite")
with right:
    epochs = st.number_input("Epochs", 1, 1000, 10, key="train_epochs")
    batch_size = st.select_slider("Batch size", [16, 32, 64, 128, 256, 512], 64, key="train_batch")
    lr = st.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2], 2e-3, key="train_lr",
                          format_func=lambda v: f"{v:g}")
    model_options = {}
    if family in BACKBONE_FAMILIES:
        model_options["backbone"] = st.radio("Backbone", ["mlp", "conv"], horizontal=True, key="train_backbone")
    if family == "conv-ae" or model_options.get("backbone") == "conv":
        fc = st.select_slider("Fully connected layer before the code", [0, 64, 128, 256, 512], 0, key="train_conv_fc",
                              help="Units between the convolutions and the code (0 = none); 256 helps most at small d.")
        if fc:
            model_options["conv_fc"] = (fc,)
    if family == "vae":
        model_options["beta"] = st.number_input("beta (weight of the KL term)", 0.0, 100.0, 1.0, 0.5, key="train_beta")
    if family == "sparse-ae":
        model_options["l1_weight"] = st.number_input("L1 weight on the code", 0.0, 10.0, 1e-2, 1e-3, format="%.4f",
                                                     key="train_l1")
    if family == "denoising-ae":
        model_options["noise"] = st.selectbox("Noise", NOISE_KINDS, key="train_noise")
        model_options["noise_level"] = st.slider("Noise level", 0.0, 1.0, 0.3, 0.05, key="train_noise_level")

start = st.button("Train", type="primary", key="train_start")

# -- the last result (shown after the rerun that selects it in the sidebar) --------------------------
if not start and job and job["state"] == "done":
    m = job["metrics"]
    st.success(f"Saved **{job['name']}** ({job['spec']}) with PCA d={job['dim']} beside it, in {job['seconds']:.1f} s. "
               f"Held-out error {m['recon_sse']:.2f} vs PCA {m['pca_recon_sse']:.2f}. It is selected in the sidebar.")
    st.line_chart(history_frame(job["history"]), x_label="epoch", y_label="loss per image")

if start:
    # Check the input before any work, one line each.
    try:
        if choice == "folder" and not spec[len("folder:"):]:
            raise ExplorerError("enter the path of an image folder or an .npz / .npy file")
        ckpt_name = check_name(name.strip() or checkpoint_name(family, int(dim)))
        target = checkpoint_root() / dataset_folder(spec) / ckpt_name
        if target.exists() and not overwrite:
            raise ExplorerError(f"{target} exists; choose another name or tick 'Overwrite'")
        dataset = cached_dataset(spec)
    except ExplorerError as exc:
        st.error(str(exc))
        st.stop()
    except Exception as exc:  # e.g. a file that is not an image array: one line, no traceback
        st.error(f"cannot load {spec}: {type(exc).__name__}: {exc}")
        st.stop()

    st.button("Cancel", key="train_cancel", help="Stops training; nothing is saved.")
    bar = st.progress(0.0, text="Starting ...")
    chart = st.empty()
    job = {"state": "running", "spec": spec, "name": ckpt_name, "dim": int(dim), "epoch": 0, "epochs": int(epochs),
           "history": []}
    st.session_state["train_job"] = job

    def on_epoch(log) -> None:
        job["epoch"] = log.epoch
        job["history"].append({"epoch": log.epoch, "train": log.train_loss, "held-out": log.test_loss})
        last = log.epoch == log.epochs
        bar.progress(log.epoch / log.epochs, text=(
            f"Epoch {log.epoch}/{log.epochs}: train {log.train_loss:.2f}, held-out {log.test_loss:.2f}"
            + (" - evaluating and fitting PCA beside it ..." if last else "")))
        chart.line_chart(history_frame(job["history"]), x_label="epoch", y_label="loss per image")

    config = TrainConfig(epochs=int(epochs), batch_size=int(batch_size), lr=float(lr))
    try:
        # No st.* call happens after the last epoch's callback until this returns, so a click can no
        # longer interrupt once training is over: evaluation, PCA and the save always complete.
        path, metrics, result = train_checkpoint(spec, family, int(dim), config, model_options, out=target,
                                                 callbacks=[on_epoch], dataset=dataset)
    except Exception as exc:  # ExplorerError (bad option for this data) or a failure inside training
        job["state"] = "failed"
        st.error(str(exc) if isinstance(exc, ExplorerError) else f"training failed: {type(exc).__name__}: {exc}")
        st.stop()
    job.update(state="done", metrics=metrics, seconds=result.seconds)
    st.rerun()  # redraw the sidebar, which lists checkpoints from disk, with the new one selected
