"""Random scenes: persons and objects placed so that they overlap, painted in a random order.

Objects are mostly placed on the outline of an instance already placed, so that most scenes
hold several occluding pairs; sizes, kinds and the paint order are independent of each other,
so that "smaller is in front", "lower is in front" and convex completion are often wrong.
"""

from __future__ import annotations

import cv2
import numpy as np

from interorder_rt.synth.background import sample_background
from interorder_rt.synth.identity import sample_identity
from interorder_rt.synth.layers import keep_visible, object_layer, person_layer
from interorder_rt.synth.objects import ObjectSpec, sample_object_spec
from interorder_rt.synth.pose_prior import sample_pose
from interorder_rt.synth.scene import Layer, Scene
from interorder_rt.synth.seeding import SeedLike, as_rng, check_size

CountLike = int | tuple[int, int]


def _count(rng: np.random.Generator, count: CountLike, name: str) -> int:
    low, high = (count, count) if isinstance(count, (int, np.integer)) else count
    if not 0 <= low <= high:
        raise ValueError(f"{name} must be a count or an inclusive (low, high) range, 0 <= low <= high; "
                         f"got {count!r}")
    return int(rng.integers(low, high + 1))


def outline_point(rng: np.random.Generator, mask: np.ndarray) -> tuple[float, float]:
    """A random point on the outer outline of ``mask`` (the image centre when it is empty)."""
    contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return mask.shape[1] / 2, mask.shape[0] / 2
    points = np.concatenate(contours)[:, 0]
    x, y = points[int(rng.integers(len(points)))]
    return float(x), float(y)


def sample_object_near(rng: np.random.Generator, height: int, width: int, anchors: list[np.ndarray]) -> ObjectSpec:
    """An object overlapping the outline of a random anchor mask (or anywhere, sometimes)."""
    short = min(height, width)
    size = float(rng.uniform(0.07, 0.3) * short)
    if anchors and rng.random() < 0.85:
        cx, cy = outline_point(rng, anchors[int(rng.integers(len(anchors)))])
        cx += rng.normal(0, 0.4 * size)
        cy += rng.normal(0, 0.4 * size)
    else:
        cx, cy = rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height
    spec = sample_object_spec(rng, (cx, cy), size)
    if spec.kind == "pole":
        return ObjectSpec(spec.kind, spec.params, spec.centre, float(rng.uniform(0.12, 0.2) * height),
                          spec.angle, spec.material)
    return spec


def generate_scene(seed_or_rng: SeedLike, *, height: int = 256, width: int = 256,
                   n_persons: CountLike = (1, 2), n_objects: CountLike = (2, 5)) -> Scene:
    """A random scene of persons and objects with exact ground truth. Deterministic from the seed.

    ``n_persons`` / ``n_objects`` are counts or inclusive ranges of instances drawn before
    hidden ones are dropped, so a scene may hold fewer. Instances are listed in random order
    (not paint order); ``scene.depth`` gives the paint rank.
    """
    rng = as_rng(seed_or_rng)
    height, width = check_size(height, width)
    persons, objects = _count(rng, n_persons, "n_persons"), _count(rng, n_objects, "n_objects")
    layers: list[Layer] = []
    for k in range(persons):
        pose = sample_pose(rng, height, width)
        layers.append(person_layer(sample_identity(rng, k), pose, height, width, instance_id=k))
    for k in range(objects):
        anchors = [layer.amodal for layer in layers]
        layers.append(object_layer(sample_object_near(rng, height, width, anchors), height, width, persons + k))
    layers = [layers[k] for k in rng.permutation(len(layers))]  # paint order
    layers = keep_visible(layers, height, width)
    scene = Scene.from_layers(sample_background(rng, height, width), layers)
    return scene.reindexed(rng.permutation(scene.n))
