"""Colour sampling for synthetic appearances: skin tones, hair, clothing and object colours."""

from __future__ import annotations

import colorsys

import numpy as np

Colour = tuple[int, int, int]

SKIN_TONES = ((255, 224, 196), (241, 194, 160), (224, 172, 125), (198, 134, 93), (160, 102, 68),
              (114, 72, 47), (84, 52, 36))
HAIR_COLOURS = ((25, 20, 18), (60, 40, 28), (105, 70, 40), (170, 130, 80), (215, 185, 120),
                (140, 60, 35), (160, 160, 160))


def jitter(rng: np.random.Generator, colour: Colour, amount: int = 12) -> Colour:
    """``colour`` with each channel moved by up to ``amount``."""
    moved = np.clip(np.asarray(colour) + rng.integers(-amount, amount + 1, size=3), 0, 255)
    return tuple(int(c) for c in moved)


def random_colour(rng: np.random.Generator, saturation: tuple[float, float] = (0.2, 0.9),
                  value: tuple[float, float] = (0.25, 0.95)) -> Colour:
    """A colour with uniform hue and saturation/value drawn from the given ranges."""
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(*saturation), rng.uniform(*value))
    return int(r * 255), int(g * 255), int(b * 255)


def contrasting(rng: np.random.Generator, colour: Colour) -> Colour:
    """A second colour for a pattern, visibly different in brightness or hue from ``colour``."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in colour))
    h = (h + rng.uniform(0.15, 0.85)) % 1.0 if rng.random() < 0.5 else h
    v = v + rng.uniform(0.3, 0.55) * (1 if v < 0.55 else -1)
    r, g, b = colorsys.hsv_to_rgb(h, float(np.clip(s * rng.uniform(0.5, 1.2), 0, 1)), float(np.clip(v, 0.05, 1)))
    return int(r * 255), int(g * 255), int(b * 255)
