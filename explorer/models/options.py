"""A model family's own settings, declared once: the `explorer train` flags and the Train page's widgets are
generated from these declarations, and ModelConfig checks a config's options against them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from explorer.errors import ExplorerError

Value = int | float | str | bool


@dataclass(frozen=True)
class Option:
    """One setting of a family. default (and high) may be a function of the code size d (top-k: a quarter of d)."""

    name: str  # a Python name: the config key; --name-with-dashes on the command line
    type: type  # int, float, str or bool
    default: Value | Callable[[int], Value]
    help: str  # one line, shown by the CLI and under the Train page's widget
    label: str = ""  # the Train page's widget label (default: the help text)
    choices: tuple[str, ...] = ()
    low: float | None = None  # bounds, checked and used by the widget
    high: float | Callable[[int], float] | None = None
    step: float | None = None  # the widget's step for numbers

    def default_for(self, dim: int) -> Value:
        return self.default(dim) if callable(self.default) else self.default

    def high_for(self, dim: int) -> float | None:
        return self.high(dim) if callable(self.high) else self.high

    def decimals(self) -> int:
        """Digits the widget shows after the point: enough for its step."""
        return max(0, -math.floor(math.log10(self.step))) if self.step else 3

    def check(self, value, dim: int) -> Value:
        """value as this option's type, within its choices and bounds; else one ExplorerError line."""
        if self.type is bool:
            if not isinstance(value, bool):
                raise ExplorerError(f"option {self.name} must be true or false, got {value!r}")
        else:
            try:
                if self.type is int and isinstance(value, float) and not value.is_integer():
                    raise ValueError
                value = self.type(value)
            except (TypeError, ValueError):
                raise ExplorerError(f"option {self.name} must be a {self.type.__name__}, got {value!r}") from None
        if self.choices and value not in self.choices:
            raise ExplorerError(f"option {self.name} must be one of {', '.join(self.choices)}, got {value!r}")
        high = self.high_for(dim)
        if (self.low is not None and value < self.low) or (high is not None and value > high):
            raise ExplorerError(f"option {self.name} must be between {self.low} and {high}, got {value}")
        return value


def resolve(family: str, declared: tuple[Option, ...], given: dict, dim: int) -> dict:
    """Every declared option of a family: the given value, checked, or the default at code size dim."""
    by_name = {o.name: o for o in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        own = ", ".join(by_name) or "none"
        raise ExplorerError(f"{family} has no option {', '.join(unknown)} (its options: {own})")
    return {name: o.check(given[name], dim) if name in given else o.default_for(dim) for name, o in by_name.items()}
