"""One interface for every model, the PCA baseline included: encode, decode, code size, named losses.

Each family lives in its own file and registers itself with @register("name"), so adding a model is one
new file: explorer.models imports every module of the package, and the family's own settings (`options`,
explorer.models.options) become `explorer train` flags and Train page widgets. What a family can do that
others cannot is declared here as class attributes (capabilities), so callers ask the model, never its name.
The config is saved with the weights, so a checkpoint rebuilds its model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import torch
from torch import nn

from explorer.errors import ExplorerError
from explorer.models.likelihood import LOSSES, sse
from explorer.models.options import Option, resolve

MODELS: dict[str, type[Autoencoder]] = {}  # in each family's `order`, then by name: the CLI's and pages' order


def register(name: str):
    def wrap(cls):
        if name in MODELS and MODELS[name].__qualname__ != cls.__qualname__:  # a reloaded module may re-register
            raise ExplorerError(f"two model families are called {name!r}: {MODELS[name].__qualname__} and "
                                f"{cls.__qualname__}")
        clash = sorted({o.name for o in cls.options} & {f.name for f in fields(ModelConfig)})
        if clash:  # ModelConfig.create would route them to the shared field
            raise ExplorerError(f"{name}: options {clash} are shared ModelConfig fields; give them other names")
        cls.family = name
        MODELS[name] = cls
        ordered = sorted(MODELS.items(), key=lambda item: (item[1].order, item[0]))
        MODELS.clear()
        MODELS.update(ordered)  # the same dict, re-ordered: modules that imported it see the new family
        return cls

    return wrap


def family_class(name: str) -> type[Autoencoder]:
    import explorer.models  # noqa: F401  (registers every family)

    if name not in MODELS:
        raise ExplorerError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return MODELS[name]


def declared_options() -> dict[str, tuple[Option, list[str]]]:
    """Every option name any family declares, with its declaration and the families that declare it."""
    import explorer.models  # noqa: F401  (registers every family)

    out: dict[str, tuple[Option, list[str]]] = {}
    for name, cls in MODELS.items():
        for option in cls.options:
            first, families = out.setdefault(option.name, (option, []))
            if (first.type, first.choices) != (option.type, option.choices):
                raise ExplorerError(f"option {option.name} of {name} differs in type or choices from "
                                    f"{families[0]}'s; give it another name")
            families.append(name)
    return out


# Settings every family once carried as flat config keys; configs saved before options were per family hold
# all of them, whatever the family: ModelConfig.from_dict keeps the ones the family declares.
LEGACY_OPTION_KEYS = ("backbone", "l1_weight", "top_k", "noise", "noise_level", "beta")


@dataclass
class ModelConfig:
    family: str
    image_shape: tuple[int, int, int]  # (C, H, W)
    dim: int  # code size d
    hidden: tuple[int, ...] = (256, 128)  # MLP widths, encoder side
    channels: tuple[int, ...] = (32, 64, 128)  # conv widths per stride-2 stage
    conv_fc: tuple[int, ...] = ()  # fully connected widths between the conv features and the code
    loss: str = "bernoulli"  # reconstruction likelihood of the families that declare uses_loss
    options: dict = field(default_factory=dict)  # the family's own settings (Autoencoder.options), defaults filled

    def __post_init__(self):
        self.image_shape, self.hidden = tuple(self.image_shape), tuple(self.hidden)
        self.channels, self.conv_fc = tuple(self.channels), tuple(self.conv_fc)
        if self.family in MODELS:  # an unregistered family (a test's stand-in) declares nothing to check
            self.options = resolve(self.family, MODELS[self.family].options, dict(self.options), self.dim)

    def __getattr__(self, name: str):
        """A family option reads as an attribute too (config.beta), as the shared fields do."""
        options = self.__dict__.get("options", {})  # absent while copy or pickle rebuild the object
        if name in options:
            return options[name]
        raise AttributeError(f"{type(self).__name__} of {self.__dict__.get('family')} has no {name!r}")

    @property
    def backbone(self) -> str | None:
        """'mlp' or 'conv': the family's own, or the one its options choose; None for families without one."""
        return MODELS[self.family].backbone_for(self.options) if self.family in MODELS else None

    @classmethod
    def create(cls, family: str, image_shape, dim: int, **settings) -> ModelConfig:
        """A config from flat settings: shared fields (hidden, loss, ...) and the family's options together,
        as the CLI, the shipped recipes and the experiments give them."""
        shared = {f.name for f in fields(cls)} - {"family", "image_shape", "dim", "options"}
        options = {k: v for k, v in settings.items() if k not in shared}
        return cls(family, image_shape, dim, **{k: v for k, v in settings.items() if k in shared}, options=options)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """The config a checkpoint saved, in this layout or the older flat one (every option a top-level key)."""
        d = dict(d)
        family_cls = MODELS.get(d.get("family"))
        own = {o.name for o in family_cls.options} if family_cls else set()
        legacy = "options" not in d
        options = dict(d.pop("options", {}))
        options.update(d.pop("extra", None) or {})  # the only extra ever saved: the denoising AE's relu_code
        for key in LEGACY_OPTION_KEYS:
            if key in d and legacy:
                value = d.pop(key)
                if key in own:
                    options.setdefault(key, value)
        if legacy and "top_k" in own:
            options.setdefault("top_k", 0)  # configs saved before top_k existed kept every unit
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ExplorerError(f"model config has unknown keys {sorted(unknown)}; "
                                "the checkpoint is from another version")
        return cls(**d, options=options)

    @property
    def n_pixels(self) -> int:
        c, h, w = self.image_shape
        return c * h * w


class Autoencoder(nn.Module):
    """Base class. Subclasses define encode / decode and, if needed, loss, options and capabilities."""

    family = "base"
    order = 100  # place in MODELS: the shipped families take 0 to 60, a new one goes after them
    options: tuple[Option, ...] = ()  # the family's own settings: config.options[name], CLI flag, Train widget
    backbone: str | None = None  # the encoder / decoder networks ('mlp' or 'conv') when the family fixes them
    # Capabilities: what callers ask instead of the family's name.
    baseline = False  # PCA itself: fitted in closed form beside every model, nothing to compare it with
    samples_prior = False  # codes have a N(0, I) prior and sample(n) draws images from it (the VAE)
    sparse_code = False  # the code is made sparse: the model card reports its active units
    uses_loss = False  # trains on config.loss (bernoulli or gaussian); the others on squared error
    is_trainable = True  # PCA is fitted in closed form instead
    decays = False  # weight decay: only for the plain deep autoencoders (see explorer.models.mlp)

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config

    @classmethod
    def backbone_for(cls, options: dict) -> str | None:
        return cls.backbone or options.get("backbone")

    @property
    def dim(self) -> int:
        return self.config.dim

    def encode(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, d)
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:  # (B, d) -> (B, C, H, W)
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named loss terms for a batch; 'loss' is the one to minimise. Sums are per image, means over the batch."""
        recon = sse(self(x), x)
        return {"loss": recon, "recon": recon}


def build_model(config: ModelConfig) -> Autoencoder:
    cls = family_class(config.family)
    if config.loss not in LOSSES:
        raise ExplorerError(f"unknown loss {config.loss!r}; choose {' or '.join(LOSSES)}")
    return cls(config)
