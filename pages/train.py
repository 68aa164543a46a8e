"""Train: pick data, a model family, a code size and hyper-parameters; watch the loss live; save a checkpoint.

Streamlit reruns the script on any click, which raises inside the running training loop at its next
st.* call and stops it. A job record (a plain dict in session_state, mutated in place so that writing
to it is not itself an interruption point) tells the next run whether the last training finished or
was stopped. Nothing half-written can reach disk: train_checkpoint saves only after training, and
saves atomically; an uploaded zip is unpacked atomically too.

A visitor's own images come from a folder inside the data roots (explorer.dataroots) or from an
uploaded zip, unpacked into the first data root (explorer.uploads); other paths on the server are refused.
"""

import pandas as pd
import streamlit as st

from explorer.checkpoints import check_name, checkpoint_name, checkpoint_root, dataset_folder
from explorer.dataroots import data_roots, resolve_inside_roots
from explorer.datasets.registry import BUILT_IN, DATASETS
from explorer.errors import ExplorerError
from explorer.models import MODELS
from explorer.models.likelihood import LOSSES
from explorer.models.options import Option
from explorer.pipeline import pca_verdict, train_checkpoint
from explorer.train import TrainConfig, describe_budget, resolve_steps
from explorer.ui.navigation import page_start
from explorer.ui.state import cached_dataset, sidebar
from explorer.uploads import MAX_ZIP_BYTES, MB, extract_image_zip

CHOICES = {name: source.description for name, source in DATASETS.items()}
SOURCES = {"path": "A folder on the server", "upload": "Upload a zip"}
FAMILIES = [name for name, cls in MODELS.items() if not cls.baseline]  # PCA is fitted beside every model anyway
BUDGETS = {"auto": "Automatic (from the data size)", "steps": "Steps", "epochs": "Epochs"}
LOSS_LABELS = {"auto": "auto (chosen from the training pixels)",
               "bernoulli": "bernoulli (near-binary images, e.g. digits)",
               "gaussian": "gaussian (photographs, shades of grey)"}


def option_widget(option: Option, dim: int):
    """The widget for one option a model family declares (explorer.models.options), keyed train_<name>."""
    key, label, default = f"train_{option.name}", option.label or option.help, option.default_for(dim)
    help_text = option.help if option.label else None
    if option.type is bool:
        return st.checkbox(label, default, key=key, help=help_text)
    if option.choices:
        pick = st.radio if len(option.choices) == 2 else st.selectbox
        extra = {"horizontal": True} if pick is st.radio else {}
        return pick(label, option.choices, index=option.choices.index(default), key=key, help=help_text, **extra)
    if option.type is str:
        return st.text_input(label, default, key=key, help=help_text)
    number = {"min_value": option.type(option.low) if option.low is not None else None,
              "max_value": option.type(option.high_for(dim)) if option.high_for(dim) is not None else None}
    if option.type is int:
        return st.number_input(label, value=int(default), step=int(option.step or 1), key=key, help=help_text, **number)
    return st.number_input(label, value=float(default), step=float(option.step or 0.1), key=key, help=help_text,
                           format=f"%.{option.decimals()}f", **number)


def apply_finished_job() -> None:
    """After a finished training: select the new checkpoint in the sidebar (before the sidebar draws)."""
    job = st.session_state.get("train_job")
    if job and job["state"] == "done" and not job.get("selected"):
        job["selected"] = True
        st.session_state["dataset"] = job["spec"]
        st.session_state["checkpoint"] = job["name"]


def history_frame(history: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(history, columns=["step", "train", "validation"]).set_index("step")


def uploaded_folder(upload) -> str | None:
    """The folder an uploaded zip was unpacked into (once per upload; the widget keeps the file across
    reruns); None with an st.error line when the zip is refused."""
    done = st.session_state.setdefault("_train_uploads", {})
    if upload.file_id not in done:
        try:
            with st.spinner(f"Unpacking {upload.name} ..."):
                done[upload.file_id] = ("ok", str(extract_image_zip(upload, upload.name, data_roots()[0])))
            cached_dataset.clear()  # an upload of the same name replaces the folder: forget the old images
        except ExplorerError as exc:
            done[upload.file_id] = ("error", str(exc))
    state, text = done[upload.file_id]
    if state == "error":
        st.error(text)
        return None
    st.caption(f"Unpacked into `{text}`.")
    return text


def fit_size(spec: str, image_size, color) -> int | None:
    """Training images of the data (the validation part left out), when known without reading files:
    built-in sets load in seconds; others are remembered once this page has loaded them."""
    known = st.session_state.setdefault("_train_fit_sizes", {})
    if (spec, image_size, color) not in known and spec in BUILT_IN:
        known[(spec, image_size, color)] = len(cached_dataset(spec, image_size, color).validation_split()[0])
    return known.get((spec, image_size, color))


apply_finished_job()
page_start()
st.title("Train a model")
sel = sidebar()  # an empty checkpoint root is fine here: this page makes the first one

job = st.session_state.get("train_job")
if job and job["state"] == "running":  # the run that trained was stopped by a click (Cancel or any widget)
    job["state"] = "cancelled"
    st.warning(f"Training cancelled at step {job['step']:,} of {job['steps']:,}; nothing was saved.")

# -- what to train ----------------------------------------------------------------------------------
left, right = st.columns(2)
with left:
    options = list(CHOICES)
    side = None if sel is None else sel.spec.partition(":")[0]  # folder:PATH -> folder
    choice = st.selectbox("Dataset", options, index=options.index(side) if side in options else 0,
                          format_func=lambda k: f"{k}: {CHOICES[k]}", key="train_dataset")
    spec, image_size, color, data_path = choice, None, "gray", None
    if DATASETS[choice].takes_path:
        source = st.radio("Images from", list(SOURCES), format_func=SOURCES.get, horizontal=True, key="train_source")
        if source == "path":
            if "train_folder" not in st.session_state and side == choice:  # start from the sidebar's folder
                st.session_state["train_folder"] = sel.spec.partition(":")[2]
            roots = data_roots()
            data_path = st.text_input("Folder or .npz / .npy file", key="train_folder",
                                      placeholder="my-images (sub-folders become labels)",
                                      help=f"Inside {' or '.join(map(str, roots))}; a relative path counts from "
                                           f"{roots[0]}. More folders: $EXPLORER_DATA_ROOTS.")
        else:
            upload = st.file_uploader("Zip of images (sub-folders become labels)", type=["zip"], key="train_zip",
                                      max_upload_size=MAX_ZIP_BYTES // MB)
            data_path = uploaded_folder(upload) if upload is not None else None
    load_options = DATASETS[choice].options  # the dataset's own load options: image size, colour
    size_col, color_col = st.columns(2) if load_options else (None, None)
    if "image_size" in load_options:
        sizes = load_options["image_size"]
        image_size = size_col.select_slider("Image size", sorted(sizes), sizes[0], key=f"train_image_size_{choice}",
                                            help="Images are resized to size x size; .npz / .npy arrays are used "
                                                 "as they are." if DATASETS[choice].takes_path else None)
    if "color" in load_options:
        color = color_col.radio("Colour", load_options["color"], horizontal=True, key="train_color")
    family = st.selectbox("Model family", FAMILIES, index=FAMILIES.index("conv-ae"), key="train_family")  # as the CLI
    dim = st.number_input("Code size d", 1, 512, 16, key="train_dim")
    name = st.text_input("Checkpoint name", key="train_name", placeholder=checkpoint_name(family, int(dim)),
                         help="Defaults to <family>-d<d>; a different name keeps an existing checkpoint.")
    overwrite = st.checkbox("Overwrite a checkpoint of the same name", key="train_overwrite")
with right:
    budget = st.radio("Training budget", list(BUDGETS), format_func=BUDGETS.get, horizontal=True, key="train_budget")
    steps = epochs = None
    if budget == "steps":
        steps = st.number_input("Steps", 1, 1_000_000, 3000, 100, key="train_steps")
    elif budget == "epochs":
        epochs = st.number_input("Epochs", 1, 10_000, 30, key="train_epochs")
    batch_size = st.select_slider("Batch size", [16, 32, 64, 128, 256, 512], 64, key="train_batch")
    lr = st.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 1e-2], 2e-3, key="train_lr",
                          format_func=lambda v: f"{v:g}")
    config = TrainConfig(steps=steps and int(steps), epochs=epochs and int(epochs), batch_size=int(batch_size),
                         lr=float(lr))
    if budget == "auto":
        n_fit = fit_size(spec, image_size, color)
        st.caption(describe_budget(config, n_fit) if n_fit else
                   "Chosen from the number of images once they are loaded (stated when training starts).")
    family_cls = MODELS[family]
    model_options = {option.name: option_widget(option, int(dim)) for option in family_cls.options}
    if family_cls.uses_loss:  # the others (the linear AE, PCA's twin) train on squared error only
        model_options["loss"] = st.selectbox("Reconstruction loss", ["auto", *LOSSES], format_func=LOSS_LABELS.get,
                                             key="train_loss")
    if family_cls.backbone_for(model_options) == "conv":
        fc = st.select_slider("Fully connected layer before the code", [0, 64, 128, 256, 512], 0, key="train_conv_fc",
                              help="Units between the convolutions and the code (0 = none); 256 helps most at small d.")
        if fc:
            model_options["conv_fc"] = (fc,)

start = st.button("Train", type="primary", key="train_start",
                  disabled=DATASETS[choice].takes_path and source == "upload" and not data_path)

# -- the last result (shown after the rerun that selects it in the sidebar) --------------------------
if not start and job and job["state"] == "done":
    m = job["metrics"]
    st.success(f"Saved **{job['name']}** ({job['spec']}) with PCA d={job['dim']} beside it, after {job['step']:,} "
               f"steps in {job['seconds']:.1f} s. Held-out error {m['recon_sse']:.2f} vs PCA {m['pca_recon_sse']:.2f}. "
               "It is selected in the sidebar.")
    if job.get("verdict"):
        st.warning(job["verdict"])
    if job.get("plan"):
        st.caption(job["plan"])
    st.line_chart(history_frame(job["history"]), x_label="step", y_label="loss per image")

if start:
    # Check the input before any work, one line each.
    try:
        if DATASETS[choice].takes_path:
            if source == "upload" and not data_path:
                raise ExplorerError("upload a zip of images first, or choose a folder on the server")
            spec = f"{choice}:{resolve_inside_roots(data_path)}"  # uploads land inside the first root too
        ckpt_name = check_name(name.strip() or checkpoint_name(family, int(dim)))
        target = checkpoint_root() / dataset_folder(spec) / ckpt_name
        if target.exists() and not overwrite:
            raise ExplorerError(f"{target} exists; choose another name or tick 'Overwrite'")
        dataset = cached_dataset(spec, image_size, color)
        n_fit = len(dataset.validation_split()[0])
    except ExplorerError as exc:  # a path outside the data roots, absent torchvision files, a bad folder ...
        st.error(str(exc))
        st.stop()
    except Exception as exc:  # e.g. a file that is not an image array: one line, no traceback
        st.error(f"cannot load {spec}: {type(exc).__name__}: {' '.join(str(exc).split())}")
        st.stop()
    st.session_state.setdefault("_train_fit_sizes", {})[(spec, image_size, color)] = n_fit

    st.button("Cancel", key="train_cancel", help="Stops training; nothing is saved.")
    plan = st.empty()
    bar = st.progress(0.0, text="Starting ...")
    chart = st.empty()
    job = {"state": "running", "spec": spec, "name": ckpt_name, "dim": int(dim), "step": 0,
           "steps": resolve_steps(config, n_fit), "history": []}
    st.session_state["train_job"] = job

    def announce(line: str) -> None:
        job["plan"] = line[0].upper() + line[1:] + "."
        plan.caption(job["plan"])

    def on_log(log) -> None:
        job.update(step=log.step, steps=log.steps)
        job["history"].append({"step": log.step, "train": log.train_loss, "validation": log.val_loss})
        last = log.step == log.steps
        bar.progress(log.step / log.steps, text=(
            f"Step {log.step:,}/{log.steps:,} (epoch {log.epoch:.1f}): train {log.train_loss:.2f}, "
            f"validation {log.val_loss:.2f}" + (" - evaluating and fitting PCA beside it ..." if last else "")))
        chart.line_chart(history_frame(job["history"]), x_label="step", y_label="loss per image")

    try:
        # No st.* call happens after the last callback until this returns, so a click can no longer
        # interrupt once training is over: evaluation, PCA and the save always complete.
        path, metrics, result = train_checkpoint(spec, family, int(dim), config, model_options, out=target,
                                                 callbacks=[on_log], dataset=dataset, image_size=image_size,
                                                 color=color, announce=announce)
    except Exception as exc:  # ExplorerError (bad option for this data) or a failure inside training
        job["state"] = "failed"
        st.error(str(exc) if isinstance(exc, ExplorerError) else f"training failed: {type(exc).__name__}: {exc}")
        st.stop()
    job.update(state="done", metrics=metrics, seconds=result.seconds, verdict=pca_verdict(metrics, family))
    st.rerun()  # redraw the sidebar, which lists checkpoints from disk, with the new one selected
