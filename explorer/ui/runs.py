"""Run an experiment from its page: st.progress draws the run's Progress, a Cancel button stops it.

Streamlit stops a running script at its next st call when any widget is clicked and runs the page again; so the
Cancel button needs no handler: the run it interrupts never reaches its save, and `cancelled_notice` at the top of
the page run that follows says so."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import streamlit as st

from explorer.errors import ExplorerError
from explorer.experiments.base import RESULTS, Progress


def _job(key: str) -> str:
    return f"{key}_job"


def cancelled_notice(key: str) -> None:
    """Say once that the page's last run was stopped by a click (Cancel or any widget) before it finished."""
    if st.session_state.get(_job(key)) == "running":
        st.session_state[_job(key)] = "cancelled"
        st.warning("Training cancelled; nothing was saved.")


def stored_run(folder: Path, load: Callable, missing: str):
    """The run stored in folder, through the page's cached load(folder, mtime of its results); None after saying
    `missing` when there is none yet. A damaged run stops the page with its one-line error."""
    results = folder / RESULTS
    if not results.is_file():
        st.info(missing)
        return None
    try:
        return load(str(folder), results.stat().st_mtime)
    except ExplorerError as exc:
        st.error(str(exc))
        st.stop()


def run_with_progress(run: Callable, config, key: str, stages: Sequence[str] = (),
                      labels: dict[str, str] | None = None, **inputs):
    """run(config, progress, **inputs) under a progress bar and a Cancel button. stages, the run's stages in order,
    make the bar cover the whole run (else each stage fills it); labels name them. Returns the result, or None
    after showing the one-line error of a run that failed."""
    labels = labels or {}
    st.button("Cancel", key=f"{key}_cancel", help="Stops training; nothing is saved.")
    bar = st.progress(0.0, text="preparing the data ...")

    def report(stage: str, done: int, total: int) -> None:
        total = max(total, 1)
        fraction = done / total
        if stage in stages:
            fraction = (list(stages).index(stage) + fraction) / len(stages)
        bar.progress(min(fraction, 1.0), text=f"{labels.get(stage, stage)}: {done:,}/{total:,}")

    st.session_state[_job(key)] = "running"
    try:
        result = run(config, Progress(report), **inputs)
    except ExplorerError as exc:
        st.session_state[_job(key)] = "failed"
        st.error(str(exc))
        return None
    st.session_state[_job(key)] = "done"  # no st call between the last report and here: the caller's save completes
    return result
