"""The experiments' contract: run folders round-trip and are written atomically, Progress cancels a run, and the
one table drives the CLI, `explorer ship` and the app's Experiments section."""

import json
from dataclasses import dataclass, field

import pytest
import torch

from explorer import cli
from explorer.errors import ExplorerError
from explorer.experiments import base
from explorer.experiments.base import (
    Cancelled,
    Experiment,
    ExperimentConfig,
    Progress,
    experiments,
    load_run,
    register,
    save_run,
)
from explorer.experiments.disentangle import default_disentangle_dir
from explorer.experiments.overcomplete import default_overcomplete_dir
from explorer.experiments.swap import SwapConfig, train_swap
from explorer.models import ModelConfig, build_model
from explorer.shipped import shipped_experiments
from explorer.train import TrainConfig
from tests.apptest import open_app_page


@dataclass
class ToyConfig(ExperimentConfig):
    width: int = 3
    name: str = "toy"
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=2, lr=0.5))


def test_config_embeds_its_training_config_and_reads_flat_legacy_dicts():
    config = ToyConfig.make(width=5, epochs=7, seed=3)
    assert (config.width, config.train.epochs, config.train.seed, config.train.lr) == (5, 7, 3, 0.5)
    assert ToyConfig.from_dict(config.to_dict()) == config  # nested, as saved now
    legacy = {"width": 5, "epochs": 7, "seed": 3, "gone": 1}  # flat, as saved before; unknown keys ignored
    assert ToyConfig.from_dict(legacy) == config


def test_save_run_load_run_round_trip(tmp_path):
    model = build_model(ModelConfig("mlp-ae", (1, 8, 8), 2, hidden=(4,)))
    state = {"w": torch.arange(6.0).view(2, 3)}
    config = ToyConfig.make(width=4)
    out = save_run(tmp_path / "run", "toy", config, {"score": 0.5}, weights={"extra": state}, models={"ae": model},
                   meta={"dataset": "mnist5k"})
    assert sorted(p.name for p in out.iterdir()) == ["ae", "config.json", "extra.safetensors", "results.json"]
    stored = load_run(out, "toy")
    assert ToyConfig.from_dict(stored.config) == config and stored.results == {"score": 0.5}
    assert stored.meta["experiment"] == "toy" and stored.meta["dataset"] == "mnist5k"
    assert torch.equal(stored.weights("extra")["w"], state["w"])
    x = torch.rand(3, 1, 8, 8)
    assert torch.equal(stored.model("ae", (1, 8, 8)).encode(x), model.encode(x))
    with pytest.raises(ExplorerError, match="no toy run there; train it with `explorer toy`"):
        load_run(tmp_path / "missing", "toy")
    (out / "config.json").write_text("{")
    with pytest.raises(ExplorerError, match="corrupt"):
        load_run(out, "toy")


def test_a_failed_save_leaves_no_folder_and_keeps_the_old_one(tmp_path):
    class Unsaveable(torch.nn.Module):  # fails in the middle of the write, after the first files
        def state_dict(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_run(tmp_path / "run", "toy", ToyConfig(), {"score": 1}, weights={"a": {"w": torch.ones(2)},
                                                                           "b": Unsaveable()})
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary twin
    save_run(tmp_path / "run", "toy", ToyConfig(), {"score": 1})
    with pytest.raises(RuntimeError):
        save_run(tmp_path / "run", "toy", ToyConfig(), {"score": 2}, weights={"b": Unsaveable()})
    assert load_run(tmp_path / "run", "toy").results == {"score": 1}  # the old run, whole
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_old_run_folders_still_load():
    """The shipped runs were saved before the shared format; each keeps loading, with its config."""
    from explorer.experiments.disentangle import load_disentangle
    from explorer.experiments.overcomplete import load_overcomplete
    from explorer.experiments.pretrain import load_results
    from explorer.experiments.swap import load_swap

    assert load_swap().config.train.epochs == 20
    assert load_disentangle().config.train.batch_size == 32
    assert load_overcomplete().config.train.steps == 3000
    from explorer.checkpoints import checkpoint_root

    assert len(load_results(checkpoint_root() / "mnist5k" / "conv-ae-d16")) == 60


def test_progress_reports_and_cancel_stops_a_run():
    heard = []
    progress = Progress(lambda stage, done, total: heard.append((stage, done, total)))
    assert progress("fit", 1, 4) is False and heard == [("fit", 1, 4)]
    progress.cancel()
    assert progress("fit", 2, 4) is True
    with pytest.raises(Cancelled, match="cancelled"):
        progress.check()
    # a real run: the first report cancels; training stops there and nothing comes back
    stop = Progress(lambda *report: True)
    with pytest.raises(Cancelled):
        train_swap(SwapConfig.make(n_train=16, n_test=4, epochs=1), stop)


def test_the_table_drives_the_cli_ship_and_the_app(tmp_path, capsys, monkeypatch):
    table = experiments()
    assert {"denoise", "pretrain", "swap", "disentangle", "analogies", "overcomplete"} <= set(table)
    assert set(shipped_experiments()) == {"sprites/experiments/swap", "sprites/experiments/disentangle",
                                          "mnist5k/pretrain", "mnist5k/experiments/overcomplete"}
    # the CLI: a registered experiment's config fields (and its training flags) are its subcommand's flags
    ran = []

    def run(config, progress):
        progress("toy stage", 1, 1)
        ran.append(config)
        return {"width": config.width}

    def save(result, folder):
        return save_run(folder or tmp_path / "default", "toy", ToyConfig(), result)

    monkeypatch.setattr(base, "_TABLE", dict(base._TABLE))  # the toy stays out of the real table
    register(Experiment("toy", "Toy", ":material/toys:", "toy", help="a toy", config=ToyConfig, run=run, save=save,
                        report=lambda result: f"width {result['width']}",
                        default_dir=lambda config, root: tmp_path / "default"))
    assert cli.main(["toy", "--width", "9", "--epochs", "4", "--name", "x", "--out", str(tmp_path / "out")]) == 0
    assert ran == [ToyConfig.make(width=9, epochs=4, name="x")]
    printed = capsys.readouterr().out
    assert f"saved {tmp_path / 'out'}" in printed and "width 9" in printed
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == {"width": 9}
    with pytest.raises(SystemExit):  # argparse refuses a non-integer
        cli.main(["toy", "--width", "many"])
    # the app's Experiments section lists the table's pages in its order
    assert [e.page for e in experiments().values()][-1] == "toy"


@pytest.mark.parametrize("page, folder, missing", [
    ("pages/disentangle.py", default_disentangle_dir, "No disentanglement models"),
    ("pages/overcomplete.py", default_overcomplete_dir, "No over-complete results"),
])
def test_a_page_without_its_run_says_what_to_do_and_a_damaged_one_is_one_error(page, folder, missing, tmp_path,
                                                                               monkeypatch):
    monkeypatch.setenv("EXPLORER_CHECKPOINTS", str(tmp_path))
    at = open_app_page(page, timeout=120)
    assert not at.exception and any(missing in i.value for i in at.info)
    folder(tmp_path).mkdir(parents=True)
    (folder(tmp_path) / "results.json").write_text("{")
    at.run()
    assert not at.exception and len(at.error) == 1 and "corrupt" in at.error[0].value
