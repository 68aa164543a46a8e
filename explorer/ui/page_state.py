"""One way for a page to drop its state when what it was made for (a dataset, a checkpoint, a map) changes."""

from __future__ import annotations

from collections.abc import Hashable, MutableMapping
from typing import Any

import streamlit as st


def reset_on_change(name: str, identity: Hashable, defaults: dict[str, Any],
                    state: MutableMapping | None = None) -> bool:
    """Give the keys of `defaults` their default values (None: removed) whenever `identity` differs from the
    one recorded under `name` on an earlier run; True when it did. On the page's first run in the session only
    missing keys get theirs (state set before it, e.g. by a test or a link, is kept).

    Use the narrowest identity the state belongs to: image rows belong to a dataset (its spec and options),
    spots on a map to the checkpoint and the map method. `state` is st.session_state unless given.
    """
    state = st.session_state if state is None else state
    recorded = f"_identity_{name}"
    first = recorded not in state
    if not first and state[recorded] == identity:
        return False
    for key, value in defaults.items():
        if first and key in state:
            continue
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    state[recorded] = identity
    return not first


def dataset_identity(sel) -> tuple:
    """What image row numbers refer to: the dataset and the options it was loaded with."""
    return sel.spec, tuple(sel.dataset_options)
