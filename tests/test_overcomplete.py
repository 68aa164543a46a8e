"""Over-complete codes: the measures on a known copy, a short run of the four models, save/load, the CLI."""

import json

import pytest
import torch

from explorer.cli import main
from explorer.errors import ExplorerError
from explorer.evaluate import evenly_spaced
from explorer.experiments.overcomplete import (
    KINDS,
    OVERCOMPLETE_MODELS,
    OvercompleteConfig,
    copied_kinds,
    evaluate_overcomplete,
    finding,
    load_overcomplete,
    model_config,
    nondigit_ratio,
    overcomplete_table,
    probe_sets,
    save_overcomplete,
    train_overcomplete,
)
from explorer.models import build_model
from explorer.models.base import Autoencoder, ModelConfig

SHORT = OvercompleteConfig.make(steps=300, n_probe=100)  # width 1024 as shipped; a tenth of the steps


class Copy(Autoencoder):
    """The identity map, code = the pixels: what an over-complete code could learn."""

    def __init__(self):
        super().__init__(ModelConfig("copy", (1, 28, 28), 784))
        self.register_buffer("anchor", torch.zeros(1))  # model_device reads a tensor

    def encode(self, x):
        return x.flatten(1)

    def decode(self, z):
        return z.view(-1, 1, 28, 28)


@pytest.fixture(scope="module")
def probes(mnist5k):
    return probe_sets(SHORT, mnist5k)


@pytest.fixture(scope="module")
def run(mnist5k):
    return train_overcomplete(SHORT, dataset=mnist5k)


def test_probe_sets_are_fixed_and_in_range(probes, mnist5k):
    assert list(probes) == list(KINDS)
    assert len(probes["digits"]) == len(mnist5k.test_idx) and all(len(probes[k]) == 100 for k in KINDS[1:])
    for x in probes.values():
        assert x.shape[1:] == (1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1
    again = probe_sets(SHORT, mnist5k)
    assert all(torch.equal(probes[k], again[k]) for k in KINDS)
    # shuffled digits: the same pixel values as the digits they come from, in other places
    originals = probes["digits"][evenly_spaced(len(probes["digits"]), 100)].flatten(1)
    shuffled = probes["shuffled"].flatten(1)
    assert torch.equal(shuffled.sort(1).values, originals.sort(1).values) and not torch.equal(shuffled, originals)


def test_a_copy_scores_zero_and_reproduces_every_kind(probes):
    results = evaluate_overcomplete({m: Copy() for m in OVERCOMPLETE_MODELS}, probes)
    assert all(v == 0 for v in results["methods"]["plain"]["sse"].values())
    assert copied_kinds(results, "plain") == [k for k in KINDS if k != "digits"]
    refs = results["references"]
    assert all(refs["black"][k] > refs["flat"][k] > 0 for k in KINDS)
    assert "learned (close to) the identity" in finding(results)[0]


def test_the_four_share_one_architecture():
    models = {m: build_model(model_config(m, SHORT)) for m in OVERCOMPLETE_MODELS}
    shapes = {m: {k: tuple(v.shape) for k, v in model.state_dict().items()} for m, model in models.items()}
    assert shapes["plain"] == shapes["sparse"] == shapes["top-k"] == shapes["denoising"]
    assert max(v[0] for v in shapes["plain"].values() if len(v) == 2) == 1024  # the code is the one hidden layer
    assert models["plain"].config.l1_weight == 0 and models["sparse"].config.l1_weight > 0
    x = torch.rand(8, 1, 28, 28)
    with torch.no_grad():
        for name in ("plain", "sparse", "denoising"):
            assert float(models[name].eval().encode(x).min()) >= 0  # ReLU codes: active fractions compare
        assert int((models["top-k"].eval().encode(x) != 0).sum(1).max()) == 1024 // 4  # a quarter of the units


def test_short_run_shows_the_experiment(run):
    m, refs = run.results["methods"], run.results["references"]
    assert list(m) == list(OVERCOMPLETE_MODELS)
    # the regularisers cost held-out digit error ...
    assert m["plain"]["sse"]["digits"] < min(m["sparse"]["sse"]["digits"], m["denoising"]["sse"]["digits"])
    # ... and L1 makes the code sparser
    assert m["sparse"]["active_fraction"] < 0.5 * m["plain"]["active_fraction"]
    # the plain model does not copy noise: no better than a flat image, close to returning black
    assert m["plain"]["sse"]["noise"] > refs["flat"]["noise"]
    assert m["plain"]["sse"]["noise"] > 0.8 * refs["black"]["noise"]
    assert nondigit_ratio(m["plain"]["sse"]) > 5
    assert "did not learn the identity" in finding(run.results)[0]
    table = overcomplete_table(run.results)
    assert list(table.index[:4]) == ["plain", "sparse (L1)", "sparse (top-k, a quarter)", "denoising"]
    assert "uniform noise" in table.columns
    assert m["top-k"]["active_fraction"] <= 0.25  # the top-k code: a quarter of its units at most
    assert run.config.train.steps == 300


def test_save_load_round_trip(run, probes, tmp_path):
    out = save_overcomplete(run, tmp_path / "oc")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "denoising", "plain", "results.json", "sparse",
                                                     "top-k"]
    loaded = load_overcomplete(out)
    assert loaded.config == run.config and loaded.results == json.loads(json.dumps(run.results))
    x = probes["noise"][:16]
    for method in OVERCOMPLETE_MODELS:  # the results were measured on the float16 weights that are stored
        assert torch.equal(loaded.models[method](x), run.models[method](x))
    assert loaded.models["denoising"].config.relu_code is True


def test_missing_and_corrupt_results_say_so_in_one_line(tmp_path, run):
    with pytest.raises(ExplorerError, match="no over-complete results") as exc:
        load_overcomplete(tmp_path / "nothing")
    assert "\n" not in str(exc.value)
    out = save_overcomplete(run, tmp_path / "oc")
    (out / "results.json").write_text('{"methods": ')
    with pytest.raises(ExplorerError, match="corrupt"):
        load_overcomplete(out)


@pytest.mark.parametrize("bad, message", [
    ({"width": 784}, "exceed the 784 pixels"), ({"steps": 0}, "positive"), ({"lr": 0}, "positive"),
    ({"l1_weight": 0}, "l1_weight must be positive"), ({"noise": "blur"}, "unknown noise"),
    ({"noise_level": 0}, "out of range"),
])
def test_bad_config_is_one_line(bad, message):
    with pytest.raises(ExplorerError, match=message) as exc:
        OvercompleteConfig.make(**bad)
    assert "\n" not in str(exc.value)


def test_cancel_stops_training(mnist5k):
    with pytest.raises(ExplorerError, match="cancelled"):
        train_overcomplete(OvercompleteConfig.make(width=800, steps=30, n_probe=10), lambda *a: True, dataset=mnist5k)


def test_cli_trains_saves_and_prints_the_table(tmp_path, capsys):
    out = tmp_path / "oc"
    assert main(["overcomplete", "--width", "800", "--steps", "30", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "uniform noise" in printed and "sparse (L1)" in printed and "Held-out digits" in printed
    assert load_overcomplete(out).config.width == 800
    assert main(["overcomplete", "--width", "100"]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
