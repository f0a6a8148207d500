"""Transfer pairs with ground truth: person X from a source scene moved into person Y's pose and
depth slot in a reference scene.

The target is the reference's layer list with Y's layer swapped for X rendered in Y's pose, painted
through the same ``Scene.from_layers``; outside the two persons' masks it equals the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interorder_rt.keypoints import INDEX
from interorder_rt.synth.background import sample_background
from interorder_rt.synth.generate import sample_object_near
from interorder_rt.synth.identity import Identity, sample_identity
from interorder_rt.synth.layers import keep_visible, object_layer, person_layer
from interorder_rt.synth.pose_prior import keypoints_from_params, sample_pose, sample_pose_params
from interorder_rt.synth.scene import Layer, Scene
from interorder_rt.synth.seeding import SeedLike, as_rng, check_size

SETTINGS = ("objects", "persons")
_MAX_ATTEMPTS = 50


@dataclass
class TransferPair:
    """Source person X (``source.instances[source_index]``) in pose A; reference person Y
    (``reference.instances[reference_index]``) in pose B; ``target``: X in pose B in Y's slot
    (same index and instance_id as Y), everything else as in the reference."""

    source: Scene
    source_index: int
    reference: Scene
    reference_index: int
    target: Scene


def _neighbour_pose(rng: np.random.Generator, pose: np.ndarray, body: float, height: int) -> np.ndarray:
    """A second person of similar size standing beside the person with ``pose`` (overlapping it)."""
    hips = (pose[INDEX["right_hip"]] + pose[INDEX["left_hip"]]) / 2
    offset = float(rng.uniform(0.12, 0.35) * body) * (1 if rng.random() < 0.5 else -1)
    other_body = body * float(rng.uniform(0.85, 1.15))
    hip = (float(hips[0]) + offset, float(np.clip(hips[1] + rng.normal(0, 0.06 * body), 0.4 * other_body, height)))
    return keypoints_from_params(sample_pose_params(rng), other_body, hip)


def _shuffled(rng: np.random.Generator, layers: list[Layer]) -> list[Layer]:
    """``layers`` in a random paint order."""
    return [layers[k] for k in rng.permutation(len(layers))]


def _source(rng: np.random.Generator, identity: Identity, body: float, height: int, width: int) -> tuple[Scene, int]:
    """Scene of X in pose A, sometimes partly hidden by an object or two."""
    for _ in range(_MAX_ATTEMPTS):
        person = person_layer(identity, sample_pose(rng, height, width, body_height=body), height, width, 0)
        if not person.amodal.any():
            continue
        extras = [object_layer(sample_object_near(rng, height, width, [person.amodal]), height, width, 1 + k)
                  for k in range(int(rng.integers(0, 3)))]
        layers = _shuffled(rng, [person, *extras])
        kept = keep_visible(layers, height, width)
        if any(layer is person for layer in kept):
            scene = Scene.from_layers(sample_background(rng, height, width), kept)
            return scene, scene.index_of(0)
    raise RuntimeError("could not place a visible source person; the image is too small")


def make_transfer_pair(seed_or_rng: SeedLike, *, setting: str = "objects", height: int = 256,
                       width: int = 256) -> TransferPair:
    """A random transfer pair. ``setting`` "objects": Y among objects; "persons": also another person.

    X and Y are of similar size (body heights within 10 %), so the transfer is meaningful; Y is
    occluded by, or occludes, at least one other instance in the reference.
    """
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
    rng = as_rng(seed_or_rng)
    height, width = check_size(height, width)
    x_identity, y_identity = sample_identity(rng, 0), sample_identity(rng, 1)
    body = float(rng.uniform(0.45, 0.85) * height)
    source, source_index = _source(rng, x_identity, body * float(rng.uniform(0.9, 1.1)), height, width)
    background = sample_background(rng, height, width)
    for _ in range(_MAX_ATTEMPTS):
        pose_b = sample_pose(rng, height, width, body_height=body)
        y_layer = person_layer(y_identity, pose_b, height, width, instance_id=0)
        x_layer = person_layer(x_identity, pose_b, height, width, instance_id=0)
        extras = []
        if setting == "persons":
            other = _neighbour_pose(rng, pose_b, body, height)
            extras.append(person_layer(sample_identity(rng, 2), other, height, width, instance_id=1))
        anchors = [y_layer.amodal] + [layer.amodal for layer in extras]
        extras += [object_layer(sample_object_near(rng, height, width, anchors), height, width, len(extras) + 1 + k)
                   for k in range(int(rng.integers(2, 5)))]
        layers = _shuffled(rng, [y_layer, *extras])
        swapped = [x_layer if layer is y_layer else layer for layer in layers]
        kept, kept_target = keep_visible(layers, height, width), keep_visible(swapped, height, width)
        if len(kept) != len(layers) or len(kept_target) != len(layers):
            continue
        reference = Scene.from_layers(background, layers)
        y_index = reference.index_of(0)
        if not reference.order[y_index].any():
            continue
        target = Scene.from_layers(background, swapped)
        permutation = rng.permutation(reference.n)
        reference, target = reference.reindexed(permutation), target.reindexed(permutation)
        return TransferPair(source, source_index, reference, reference.index_of(0), target)
    raise RuntimeError("could not build a transfer pair with every instance visible; the image is too small")
