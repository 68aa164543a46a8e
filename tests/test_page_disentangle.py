"""Disentangle page on the shipped DC-IGN, VAE and beta-VAE: the MIG numbers, the table, the heat map and the
traversals it shows are the stored run's."""

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.experiments.disentangle import DISENTANGLE_MODELS, default_disentangle_dir, load_disentangle, mig_table
from tests.apptest import open_app_page

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


def open_page() -> AppTest:
    return open_app_page("pages/disentangle.py", timeout=120)


def heat_map(at: AppTest) -> np.ndarray:
    """The z values of the page's MI heat map (plotly sends an array as base64 bytes with its dtype and shape)."""
    z = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["z"]
    if isinstance(z, dict):
        shape = [int(n) for n in str(z["shape"]).split(",")]
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.array(z, dtype=float)


def test_page_shows_the_stored_mig_table_heat_map_and_traversals():
    assert (default_disentangle_dir(SHIPPED) / "results.json").is_file(), "shipped disentanglement results missing"
    stored = load_disentangle(default_disentangle_dir(SHIPPED))
    res = stored.results["methods"]
    at = open_page()
    assert not at.exception and not at.error
    shown = {m.label: m.value for m in at.metric}
    assert list(shown) == ["MIG, DC-IGN", "group MIG, DC-IGN", "MIG, VAE (beta = 1)", "group MIG, VAE (beta = 1)",
                           "MIG, beta-VAE", "group MIG, beta-VAE"]
    labels = {"dc-ign": "DC-IGN", "vae": "VAE (beta = 1)", "beta-vae": "beta-VAE"}
    for method, label in labels.items():  # every number shown is the stored run's
        assert shown[f"MIG, {label}"] == f"{res[method]['mig']:.3f}"
        assert shown[f"group MIG, {label}"] == f"{res[method]['group_mig']:.3f}"
    table = at.dataframe[0].value
    expected = mig_table(stored.results).rename(columns=labels)
    assert np.allclose(table.to_numpy(dtype=float), expected.to_numpy(dtype=float))
    assert list(table.index) == list(expected.index) and "group MIG" in table.index
    assert any("One recipe for all three" in c.value for c in at.caption)  # steps, lr, validation, best steps
    dim = stored.config.dim
    for method in DISENTANGLE_MODELS:
        if method != "dc-ign":
            at.radio(key="dis_method").set_value(method).run()
        assert not at.exception and not at.error
        assert heat_map(at) == pytest.approx(np.array(res[method]["mi"]))  # this model's MI, factors x units
        assert len(at.get("image")) == 1 + dim  # the start sprite, then one traversal row per code unit
    at.number_input(key="dis_index").set_value(7).run()
    assert not at.exception and len(at.get("image")) == 1 + dim

