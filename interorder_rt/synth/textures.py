"""Patterns over texture coordinates, shared by clothing and objects.

A pattern maps per-pixel texture coordinates ``(u, v)`` (in the owner's own frame, so a pattern
moves with the body part or object it is printed on) to a boolean "second colour" map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from interorder_rt.synth.palette import Colour, contrasting, random_colour
from interorder_rt.synth.seeding import pick

PATTERNS = ("solid", "hstripes", "vstripes", "checks", "dots", "diagonal")


@dataclass(frozen=True)
class Material:
    """A printed surface: base colour, second colour, pattern and its period in texture units."""

    colour: Colour
    alt_colour: Colour
    pattern: str
    period: float

    def __post_init__(self) -> None:
        if self.pattern not in PATTERNS:
            raise ValueError(f"unknown pattern {self.pattern!r}; expected one of {PATTERNS}")
        if not self.period > 0:
            raise ValueError(f"pattern period must be positive, got {self.period}")


def sample_material(rng: np.random.Generator, period: tuple[float, float], *, p_solid: float = 0.35,
                    colour: Colour | None = None) -> Material:
    """A random material with a pattern period drawn from ``period`` (texture units)."""
    base = colour if colour is not None else random_colour(rng)
    pattern = "solid" if rng.random() < p_solid else pick(rng, PATTERNS[1:])
    return Material(base, contrasting(rng, base), pattern, float(rng.uniform(*period)))


def pattern_mask(pattern: str, u: np.ndarray, v: np.ndarray, period: float) -> np.ndarray:
    """Where the second colour shows, for texture coordinates ``u`` (across) and ``v`` (along)."""
    a, b = u / period, v / period
    if pattern == "solid":
        return np.zeros(u.shape, dtype=bool)
    if pattern == "hstripes":
        return (np.floor(b) % 2).astype(bool)
    if pattern == "vstripes":
        return (np.floor(a) % 2).astype(bool)
    if pattern == "checks":
        return ((np.floor(a) + np.floor(b)) % 2).astype(bool)
    if pattern == "dots":
        return (a - np.round(a)) ** 2 + (b - np.round(b)) ** 2 < 0.09
    if pattern == "diagonal":
        return (np.floor(a + b) % 2).astype(bool)
    raise ValueError(f"unknown pattern {pattern!r}; expected one of {PATTERNS}")


def paint(materials: Sequence[Material], which: np.ndarray, u: np.ndarray, v: np.ndarray,
          shade: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colours of pixels printed with ``materials[which]``.

    ``u, v`` are the pixels' texture coordinates and ``shade`` their brightness factor, all of
    the shape of ``which``.
    """
    alt = np.zeros(which.shape, dtype=bool)
    for m, material in enumerate(materials):
        if material.pattern != "solid":
            alt |= (which == m) & pattern_mask(material.pattern, u, v, material.period)
    table = np.array([c for mat in materials for c in (mat.colour, mat.alt_colour)], dtype=np.float32)
    colours = np.take(table, which * 2 + alt, axis=0)  # rows: material m base, m second, m+1 base...
    colours *= shade[..., None]
    return np.clip(colours, 0, 255, out=colours).astype(np.uint8)
