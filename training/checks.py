"""Checks shared by the training entry points: option ranges, and a loss that stops being finite."""

from __future__ import annotations

import math

from training import distributed


class NonFiniteLoss(ValueError):
    """A training loss became NaN or infinite; the run stops without saving that state."""


def check_range(name: str, value: float, low: float, high: float = math.inf, *, low_open: bool = False,
                high_open: bool = False) -> None:
    """Raise ValueError unless ``value`` is a finite number in the interval from ``low`` to ``high``."""
    number = isinstance(value, (int, float)) and math.isfinite(value)
    if not number or (value <= low if low_open else value < low) or (value >= high if high_open else value > high):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open or high == math.inf else ']'}"
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")


def check_losses(losses: dict[str, float], step: int, context: distributed.Context) -> None:
    """Raise NonFiniteLoss naming ``step`` when any loss of any process is not finite."""
    bad = {name: value for name, value in losses.items() if not math.isfinite(value)}
    if distributed.any_process(bool(bad), context):
        found = ", ".join(f"{name} = {value}" for name, value in bad.items()) or "a loss of another process"
        raise NonFiniteLoss(
            f"training stopped at step {step}: {found} is not finite (try a lower --lr); "
            "the last checkpoint, written before this step, is kept"
        )
