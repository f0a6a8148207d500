"""One way to turn a seed or a generator into a NumPy generator, so every entry point is reproducible."""

from __future__ import annotations

import numpy as np

SeedLike = int | np.integer | np.random.Generator


def as_rng(seed_or_rng: SeedLike) -> np.random.Generator:
    """A ``np.random.Generator`` from an integer seed (fresh) or a generator (used as is)."""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if isinstance(seed_or_rng, (int, np.integer)) and not isinstance(seed_or_rng, bool):
        if seed_or_rng < 0:
            raise ValueError(f"seed must be non-negative, got {seed_or_rng}")
        return np.random.default_rng(int(seed_or_rng))
    raise TypeError(f"expected an int seed or a numpy Generator, got {type(seed_or_rng).__name__}")


def check_size(height: int, width: int) -> tuple[int, int]:
    """Validate an image size; synthetic scenes need room for a person of a few pixels."""
    for name, value in (("height", height), ("width", width)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 32:
            raise ValueError(f"{name} must be at least 32 pixels, got {value}")
    return int(height), int(width)


def pick(rng: np.random.Generator, options, weights=None):
    """One of ``options``, uniformly or with relative ``weights`` (cheaper than ``rng.choice``)."""
    if weights is None:
        return options[int(rng.integers(len(options)))]
    cumulative = np.cumsum(weights, dtype=np.float64)
    k = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return options[min(k, len(options) - 1)]
