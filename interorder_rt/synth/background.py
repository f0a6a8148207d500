"""Backgrounds: a wall over a floor, with smooth blotches and a floor pattern in perspective."""

from __future__ import annotations

import cv2
import numpy as np

from interorder_rt.synth.palette import contrasting, random_colour
from interorder_rt.synth.seeding import check_size, pick
from interorder_rt.synth.textures import pattern_mask


_FLOOR_PATTERNS = ("solid", "checks", "hstripes", "dots", "diagonal")  # planks and tiles, not rays


def _blotches(rng: np.random.Generator, height: int, width: int, amount: float) -> np.ndarray:
    """(H, W, 1) float32 smooth brightness variation around 1."""
    coarse = rng.normal(0.0, amount, size=(6, 6)).astype(np.float32)
    return 1.0 + cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)[..., None]


def sample_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8 random background, drawn at half resolution (soft, and cheap) and upscaled."""
    height, width = check_size(height, width)
    return cv2.resize(_draw(rng, (height + 1) // 2, (width + 1) // 2), (width, height), interpolation=cv2.INTER_LINEAR)


def _draw(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    horizon = int(rng.uniform(0.25, 0.7) * height)
    wall = np.float32(random_colour(rng, (0.05, 0.5), (0.35, 0.9)))
    floor = np.float32(random_colour(rng, (0.05, 0.6), (0.2, 0.75)))
    out = np.empty((height, width, 3), dtype=np.float32)
    gradient = np.linspace(0.85, 1.05, max(horizon, 1), dtype=np.float32)[:, None, None]
    out[:horizon] = wall * gradient
    rows = np.arange(horizon, height, dtype=np.float32)[:, None]
    if rows.size:
        distance = rows - horizon + 0.08 * height  # larger near the camera
        cols = np.arange(width, dtype=np.float32)[None, :] - width / 2
        u, v = cols / distance, height / distance
        pattern = pick(rng, _FLOOR_PATTERNS)
        alt = pattern_mask(pattern, u, v, float(rng.uniform(0.2, 0.6)))
        second = np.float32(contrasting(rng, tuple(int(c) for c in floor)))
        second = floor + (second - floor) * np.float32(rng.uniform(0.25, 0.6))  # keep the floor quiet
        fade = np.clip((rows - horizon) / (0.3 * height), 0, 1)[..., None]  # no moire near the horizon
        out[horizon:] = floor + (second - floor) * (alt[..., None] * fade)
    out *= _blotches(rng, height, width, float(rng.uniform(0.02, 0.08)))
    return np.clip(out, 0, 255).astype(np.uint8)
