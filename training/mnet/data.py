"""Self-supervised MNet training samples from synthetic scenes generated on the fly.

Instance samples (imitative learning): an instance's *visible* pixels are partly erased by another
instance's mask moved over them (``training.occlusion.place_occluder``); the net sees the rest and
must repaint the erased part, whose ground truth is the visible content itself. The hidden part of
``Instance.rgb`` is never read, so the training is as self-supervised as the paper's.
Background samples: a randomly placed instance-shaped hole in the frame; the truth is the frame.

Everything is drawn from one ``np.random.Generator`` whose state, with the seeds of the scenes in
the pool, is the sampler's checkpointable state: a resumed run sees the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from interorder_rt.completion import (
    CONTEXT_MARGIN, INSTANCE_MARGIN, MIN_CONTEXT, Crop, crop_region, crop_truth, crops_to_tensor, square_box)
from interorder_rt.synth import Scene, generate_scene
from training.occlusion import place_occluder, shift_mask

TRAIN_SEED_BASE = 2**32  # training scenes use seeds >= this; evaluation seeds stay below it
MIN_INSTANCE_AREA = 150  # pixels; smaller instances give crops with too little to learn from


@dataclass
class Batch:
    """Net inputs and what the losses need, all (B, C, S, S) float32."""

    x: torch.Tensor  # 5-channel net input
    target: torch.Tensor  # (B, 3, S, S) true RGB over the support
    hole: torch.Tensor  # (B, 1, S, S) pixels to fill
    support: torch.Tensor  # (B, 1, S, S) pixels with a defined truth (known | hole)

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(*(t.to(device) for t in (self.x, self.target, self.hole, self.support)))


class ScenePool:
    """A pool of synthetic training scenes, a few replaced per step; rebuilt from its seeds."""

    def __init__(self, rng: np.random.Generator, size: int, height: int, width: int) -> None:
        if size < 2:
            raise ValueError(f"the scene pool needs at least 2 scenes, got {size}")
        self.rng, self.height, self.width = rng, height, width
        self.seeds = [self._new_seed() for _ in range(size)]
        self.scenes = [self._make(s) for s in self.seeds]

    def _new_seed(self) -> int:
        return int(self.rng.integers(TRAIN_SEED_BASE, 2**62))

    def _make(self, seed: int) -> Scene:
        return generate_scene(seed, height=self.height, width=self.width)

    def refresh(self, count: int) -> None:
        """Replace ``count`` random scenes with new ones."""
        for slot in self.rng.choice(len(self.seeds), size=min(count, len(self.seeds)), replace=False):
            self.seeds[slot] = self._new_seed()
            self.scenes[slot] = self._make(self.seeds[slot])

    def state_dict(self) -> dict:
        return {"seeds": list(self.seeds)}

    def load_state_dict(self, state: dict) -> None:
        self.seeds = [int(s) for s in state["seeds"]]
        self.scenes = [self._make(s) for s in self.seeds]

    def random_instance(self, min_area: int = MIN_INSTANCE_AREA) -> tuple[Scene, int]:
        """A (scene, instance index) with at least ``min_area`` visible pixels."""
        while True:
            scene = self.scenes[self.rng.integers(len(self.scenes))]
            if not scene.instances:
                continue
            index = int(self.rng.integers(len(scene.instances)))
            if scene.instances[index].modal.sum() >= min_area:
                return scene, index

    def random_mask(self) -> np.ndarray:
        """A random instance's visible mask: the shape of an occluder or of a hole."""
        scene, index = self.random_instance(min_area=1)
        return scene.instances[index].modal


class CompletionSampler:
    """Draws training batches (instance or background crops) from a :class:`ScenePool`."""

    def __init__(self, seed: int, *, crop_size: int, pool_size: int = 48, refresh: int = 2,
                 height: int = 256, width: int = 256) -> None:
        self.rng = np.random.default_rng(seed)
        self.crop_size, self.refresh = crop_size, refresh
        self.pool = ScenePool(self.rng, pool_size, height, width)

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state, "pool": self.pool.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.pool.load_state_dict(state["pool"])

    def _erase(self, visible: np.ndarray) -> np.ndarray:
        """The part of ``visible`` under a random occluder (non-empty, not all of it)."""
        while True:
            placed = place_occluder(visible, self.pool.random_mask(), self.rng)
            if placed is not None:
                return visible & placed[0]

    def _instance_views(self, views: int) -> list[tuple[Crop, np.ndarray]]:
        """One instance under ``views`` different random occluders, as (crop, target) pairs."""
        scene, index = self.pool.random_instance()
        visible = scene.instances[index].modal
        box = square_box(visible, INSTANCE_MARGIN)
        target = crop_truth(scene.image, visible, box, self.crop_size)
        out = []
        for _ in range(views):
            erased = self._erase(visible)
            out.append((crop_region(scene.image, visible & ~erased, erased, box, self.crop_size), target))
        return out

    def _background(self) -> tuple[Crop, np.ndarray]:
        """A random instance-shaped hole placed over a random frame."""
        scene = self.pool.scenes[self.rng.integers(len(self.pool.scenes))]
        shape = self.pool.random_mask()
        h, w = shape.shape
        ys, xs = np.nonzero(shape)
        dy = int(self.rng.integers(-ys.min(), h - ys.max()))
        dx = int(self.rng.integers(-xs.min(), w - xs.max()))
        hole = shift_mask(shape, dy, dx)
        box = square_box(hole, CONTEXT_MARGIN, MIN_CONTEXT)
        everything = np.ones_like(hole)
        return crop_region(scene.image, ~hole, hole, box, self.crop_size), crop_truth(scene.image, everything, box, self.crop_size)

    def batch(self, size: int, background_share: float = 0.0) -> Batch:
        """``size`` samples, each a background one with probability ``background_share``."""
        pairs = [
            self._background() if self.rng.random() < background_share else self._instance_views(1)[0]
            for _ in range(size)
        ]
        self.pool.refresh(self.refresh)
        return _collate(pairs)

    def contrastive_batch(self, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(query, key) inputs: the same ``size`` instances, each under two different occluders."""
        views = [self._instance_views(2) for _ in range(size)]
        self.pool.refresh(self.refresh)
        return _collate([v[0] for v in views]).x, _collate([v[1] for v in views]).x


def _collate(pairs: list[tuple[Crop, np.ndarray]]) -> Batch:
    crops = [crop for crop, _ in pairs]
    x = crops_to_tensor(crops)
    target = torch.from_numpy(np.stack([t for _, t in pairs])).permute(0, 3, 1, 2).contiguous()
    hole = x[:, 4:5].clone()
    support = torch.clamp(x[:, 3:4] + hole, max=1.0)
    return Batch(x, target, hole, support)
