"""The registries: a model family is one file (its options become CLI flags, its capabilities replace name checks),
saved configs of every layout load, and one table lists the datasets."""

from pathlib import Path

import pytest
import torch

from explorer.checkpoints import list_checkpoints, load_checkpoint
from explorer.cli import _model_options, build_parser
from explorer.datasets.registry import BUILT_IN, DATASETS, descriptions, load_dataset, source_of
from explorer.errors import ExplorerError
from explorer.models import MODELS, ModelConfig, build_model
from explorer.models.base import Autoencoder, register
from explorer.models.options import Option

SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints"


def shipped_checkpoints() -> list[Path]:
    return list_checkpoints(SHIPPED) + sorted(p.parent for p in SHIPPED.glob("*/experiments/*/*/config.json"))


def test_the_families_keep_their_order():
    assert list(MODELS) == ["pca", "linear-ae", "mlp-ae", "conv-ae", "sparse-ae", "denoising-ae", "vae"]


def test_every_shipped_checkpoint_loads_its_flat_config_into_the_familys_options():
    loaded = {f"{p.parent.name}/{p.name}": load_checkpoint(p)[0] for p in shipped_checkpoints()}
    assert len(loaded) >= 20
    for model in loaded.values():
        assert set(model.config.options) == {o.name for o in type(model).options}  # every option, no stray one
    assert loaded["mnist5k/sparse-ae-d16"].config.options == {"top_k": 4, "l1_weight": 0.0, "backbone": "mlp"}
    assert loaded["mnist5k/denoising-ae-d16"].config.noise_level == 0.4
    assert loaded["overcomplete/denoising"].config.relu_code is True  # once config.extra["relu_code"]
    assert loaded["overcomplete/plain"].config.top_k == 0 and loaded["overcomplete/top-k"].config.top_k == 256
    assert loaded["sprites/vae-d10"].config.backbone == loaded["sprites/conv-ae-d10"].config.backbone == "conv"
    assert loaded["disentangle/beta-vae"].config.beta == 4.0
    assert loaded["mnist5k/pca-d16"].config.options == {} and loaded["mnist5k/pca-d16"].config.backbone is None


def test_a_config_round_trips_in_its_new_layout():
    config = ModelConfig.create("vae", (1, 8, 8), 3, hidden=(16,), loss="gaussian", beta=2.5, backbone="conv")
    saved = config.to_dict()
    assert saved["options"] == {"beta": 2.5, "backbone": "conv"} and "beta" not in saved
    assert ModelConfig.from_dict(saved) == config


def test_an_option_the_family_does_not_declare_or_a_bad_value_is_one_line():
    with pytest.raises(ExplorerError, match=r"mlp-ae has no option beta \(its options: none\)"):
        ModelConfig.create("mlp-ae", (1, 8, 8), 3, beta=2.0)
    with pytest.raises(ExplorerError, match="noise must be one of gaussian, salt-pepper, masking"):
        ModelConfig.create("denoising-ae", (1, 8, 8), 3, noise="blur")
    with pytest.raises(ExplorerError, match="top_k must be between 0 and 16, got 17"):
        ModelConfig.create("sparse-ae", (1, 8, 8), 16, top_k=17)
    with pytest.raises(ExplorerError, match="unknown keys"):
        ModelConfig.from_dict({**ModelConfig("vae", (1, 8, 8), 3).to_dict(), "beta": 2.0})  # flat key in new layout


def test_capabilities_are_declared_by_one_family_each():
    assert [f for f, cls in MODELS.items() if cls.baseline] == ["pca"]
    assert [f for f, cls in MODELS.items() if cls.samples_prior] == ["vae"]
    assert [f for f, cls in MODELS.items() if cls.sparse_code] == ["sparse-ae"]
    assert all(hasattr(cls, "sample") == cls.samples_prior for cls in MODELS.values())


@pytest.mark.parametrize("family", [f for f, cls in MODELS.items() if cls.is_trainable])
def test_every_parameter_gets_a_gradient(family):
    """What lets DistributedDataParallel skip its search for unused parameters (explorer.train)."""
    torch.manual_seed(0)
    for loss in ("bernoulli", "gaussian"):
        model = build_model(ModelConfig.create(family, (1, 8, 8), 3, hidden=(16,), loss=loss))
        model.train().loss(torch.rand(8, 1, 8, 8))["loss"].backward()
        assert all(p.grad is not None for p in model.parameters()), family


@pytest.fixture
def toy_family():
    """A family defined the way a contributor adds one: a subclass with @register and an option, nothing else."""

    @register("toy-ae")
    class ToyAE(Autoencoder):
        options = (Option("toy_scale", float, 1.0, "how much the decoder scales the code", low=0.0),
                   Option("toy_mode", str, "a", "a toy choice", choices=("a", "b")))

        def __init__(self, config):
            super().__init__(config)
            self.encoder = torch.nn.Linear(config.n_pixels, config.dim)
            self.decoder = torch.nn.Linear(config.dim, config.n_pixels)

        def encode(self, x):
            return self.encoder(x.flatten(1))

        def decode(self, z):
            return self.decoder(z * self.config.toy_scale).view(len(z), *self.config.image_shape)

    try:
        yield ToyAE
    finally:
        MODELS.pop("toy-ae")


def test_a_new_family_is_one_registration(toy_family):
    assert list(MODELS)[-1] == "toy-ae"  # after the shipped families
    args = build_parser().parse_args(["train", "--model", "toy-ae", "--toy-scale", "0.5", "--toy-mode", "b"])
    assert args.model == "toy-ae" and _model_options(args) == {"toy_scale": 0.5, "toy_mode": "b"}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--toy-mode", "c"])  # its choices reach the flag
    config = ModelConfig.create("toy-ae", (1, 4, 4), 2, **_model_options(args))
    assert ModelConfig.from_dict(config.to_dict()) == config and config.toy_scale == 0.5
    assert build_model(config).decode(torch.zeros(3, 2)).shape == (3, 1, 4, 4)
    assert ModelConfig.create("toy-ae", (1, 4, 4), 2).options == {"toy_scale": 1.0, "toy_mode": "a"}  # defaults


def test_the_shipped_flags_and_the_defaults_they_leave_alone():
    args = build_parser().parse_args(["train", "--model", "sparse-ae", "--top-k", "3", "--backbone", "conv",
                                      "--no-relu-code"])
    assert _model_options(args) == {"top_k": 3, "backbone": "conv", "relu_code": False}
    assert _model_options(build_parser().parse_args(["train"])) == {}


def test_one_dataset_table():
    assert list(descriptions()) == ["mnist5k", "digits", "sprites", "mnist", "fashion-mnist", "kmnist", "cifar10",
                                    "folder:PATH"]
    assert BUILT_IN == ("mnist5k", "digits", "sprites")
    assert [n for n, s in DATASETS.items() if s.downloadable] == ["mnist", "fashion-mnist", "kmnist", "cifar10"]
    assert source_of("folder:/some/where") == (DATASETS["folder"], "/some/where")
    for bad in ("nope", "folder", "digits:/x"):
        with pytest.raises(ExplorerError, match="unknown dataset"):
            load_dataset(bad)
    assert load_dataset("sprites", image_size=64).image_shape == (1, 64, 64)


def test_an_option_may_not_shadow_a_shared_field():
    with pytest.raises(ExplorerError, match=r"options \['hidden'\] are shared ModelConfig fields"):
        register("bad-ae")(type("BadAE", (Autoencoder,), {"options": (Option("hidden", int, 1, "widths"),)}))
    assert "bad-ae" not in MODELS
