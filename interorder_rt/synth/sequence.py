"""Short synthetic videos: persons walk or move between two poses, objects drift and turn.

Every frame is a Scene painted through ``Scene.from_layers`` with a fixed paint order; instances
keep their ``instance_id`` (and persons their identity) in every frame and are listed by
``instance_id``. An instance that is hidden in a frame is left out of that frame only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

import numpy as np

from interorder_rt.synth.background import sample_background
from interorder_rt.synth.generate import sample_object_near
from interorder_rt.synth.identity import Identity, sample_identity
from interorder_rt.synth.layers import keep_visible, object_layer, person_layer
from interorder_rt.synth.objects import ObjectSpec
from interorder_rt.synth.pose_prior import PoseParams, keypoints_from_params, sample_pose_params, walk_angles
from interorder_rt.synth.scene import Layer, Scene
from interorder_rt.synth.seeding import SeedLike, as_rng, check_size, pick


@dataclass(frozen=True)
class _PersonTrack:
    """A person walking (``walk_cycle`` frames per stride cycle) or blending between two poses."""

    identity: Identity
    start: PoseParams
    end: PoseParams
    body: float
    hip: tuple[float, float]
    velocity: tuple[float, float]  # pixels per frame
    walk_cycle: float | None
    stride: float
    phase: float

    def pose(self, frame: int, frames: int) -> np.ndarray:
        """Full keypoints at ``frame`` of a ``frames``-long sequence (poses blend with an ease in/out)."""
        if self.walk_cycle is not None:
            angles = walk_angles(self.phase + 2 * np.pi * frame / self.walk_cycle, self.stride)
            params = replace(self.start, angles=angles)
        else:
            params = self.start.blend(self.end, 0.5 - 0.5 * np.cos(np.pi * frame / max(frames - 1, 1)))
        hip = (self.hip[0] + self.velocity[0] * frame, self.hip[1] + self.velocity[1] * frame)
        return keypoints_from_params(params, self.body, hip)


@dataclass(frozen=True)
class _ObjectTrack:
    """An object moving at a constant velocity and spin from its first-frame placement."""

    spec: ObjectSpec
    velocity: tuple[float, float]
    spin: float  # radians per frame

    def at(self, frame: int) -> ObjectSpec:
        centre = (self.spec.centre[0] + self.velocity[0] * frame, self.spec.centre[1] + self.velocity[1] * frame)
        return self.spec.moved(centre, self.spec.angle + self.spin * frame)


def _walker(rng: np.random.Generator, identity: Identity, frames: int, height: int, width: int) -> _PersonTrack:
    """A person walking side-on across the frame, centred on the middle of the sequence."""
    body = float(rng.uniform(0.4, 0.7) * height)
    direction = 1.0 if rng.random() < 0.5 else -1.0
    start = replace(sample_pose_params(rng, "walk"), yaw=direction * float(np.radians(rng.uniform(70, 95))))
    stride, cycle = float(rng.uniform(0.7, 1.1)), float(rng.uniform(26, 40))
    speed = direction * 0.86 * stride * body / cycle * 0.8  # body units per stride cycle, a little slower
    x_mid = float(rng.uniform(0.35, 0.65) * width)
    hip = (x_mid - speed * (frames - 1) / 2, float(rng.uniform(0.5 * body, height - 0.35 * body)))
    phase = float(rng.uniform(0, 2 * np.pi))
    return _PersonTrack(identity, start, start, body, hip, (speed, 0.0), cycle, stride, phase)


def _mover(rng: np.random.Generator, identity: Identity, height: int, width: int) -> _PersonTrack:
    """A person changing smoothly between two poses of one action while drifting a little."""
    action = pick(rng, ("stand", "arms_raised", "arms_crossed", "hands_on_hips", "reach", "sit"))
    start = sample_pose_params(rng, action)
    end = replace(sample_pose_params(rng, action), yaw=start.yaw + float(rng.normal(0, 0.2)), roll=start.roll)
    body = float(rng.uniform(0.4, 0.75) * height)
    hip = (float(rng.uniform(0.2, 0.8) * width), float(rng.uniform(0.5 * body, height - 0.35 * body)))
    velocity = (float(rng.normal(0, 0.3)), float(rng.normal(0, 0.1)))
    return _PersonTrack(identity, start, end, body, hip, velocity, None, 1.0, 0.0)


def make_sequence(seed_or_rng: SeedLike, frames: int = 48, *, height: int = 256, width: int = 256) -> list[Scene]:
    """``frames`` scenes of smooth motion with stable instance ids. Deterministic from the seed."""
    return list(iter_sequence(seed_or_rng, frames, height=height, width=width))


def iter_sequence(seed_or_rng: SeedLike, frames: int = 48, *, height: int = 256, width: int = 256) -> Iterator[Scene]:
    """The scenes of ``make_sequence`` one at a time, so a long clip never sits in memory.

    Arguments are checked and the clip's layout drawn at the call, before the first scene.
    """
    if not isinstance(frames, (int, np.integer)) or frames < 1:
        raise ValueError(f"frames must be a positive int, got {frames!r}")
    rng = as_rng(seed_or_rng)
    height, width = check_size(height, width)
    persons = [_walker(rng, sample_identity(rng, 0), frames, height, width)]
    if rng.random() < 0.6:
        persons.append(_mover(rng, sample_identity(rng, 1), height, width))
    anchors = [person_layer(p.identity, p.pose(frames // 2, frames), height, width, 0).amodal for p in persons]
    objects = []
    for _ in range(int(rng.integers(2, 5))):
        spec = sample_object_near(rng, height, width, anchors)
        moving = rng.random() < 0.5
        velocity = (float(rng.normal(0, 0.6)), float(rng.normal(0, 0.3))) if moving else (0.0, 0.0)
        objects.append(_ObjectTrack(spec, velocity, float(rng.normal(0, 0.01)) if moving else 0.0))
    tracks = persons + objects
    paint_order = rng.permutation(len(tracks))
    background = sample_background(rng, height, width)
    return _render(tracks, paint_order, background, frames, height, width)


def _render(tracks: list, paint_order: np.ndarray, background: np.ndarray, frames: int, height: int,
            width: int) -> Iterator[Scene]:
    for t in range(frames):
        layers: list[Layer] = []
        for k in paint_order:
            track = tracks[k]
            if isinstance(track, _PersonTrack):
                layers.append(person_layer(track.identity, track.pose(t, frames), height, width, int(k)))
            else:
                layers.append(object_layer(track.at(t), height, width, int(k)))
        scene = Scene.from_layers(background, keep_visible(layers, height, width))
        ids = np.array([inst.instance_id for inst in scene.instances])
        yield scene.reindexed(np.argsort(ids, kind="stable"))
