"""Turning rendered persons and objects into scene layers, and the visibility rule scenes share."""

from __future__ import annotations

import numpy as np

from interorder_rt.synth.identity import Identity
from interorder_rt.synth.objects import ObjectSpec, render_object
from interorder_rt.synth.person import render_person
from interorder_rt.synth.pose_prior import keypoints_in_image
from interorder_rt.synth.scene import Layer, drop_hidden, drop_slivers

MIN_VISIBLE_FRACTION = 0.08  # of an instance's complete mask


def min_visible_pixels(height: int, width: int) -> int:
    """Fewest visible pixels an instance may keep: 0.1 % of the image, at least 12."""
    return max(12, int(round(0.001 * height * width)))


def min_occlusion_pixels(height: int, width: int) -> int:
    """Fewest pixels of another instance an occluder may hide, if it hides any: 0.03 % of the image, at least 6."""
    return max(6, int(round(0.0003 * height * width)))


def person_layer(identity: Identity, pose: np.ndarray, height: int, width: int, instance_id: int) -> Layer:
    """A person layer; ``pose`` is the full pose, the layer's keypoints are NaN outside the image."""
    rgb, mask = render_person(identity, pose, height, width)
    return Layer(amodal=mask, rgb=rgb, category="person", keypoints=keypoints_in_image(pose, height, width),
                 identity=identity.id, instance_id=instance_id)


def object_layer(spec: ObjectSpec, height: int, width: int, instance_id: int) -> Layer:
    rgb, mask = render_object(spec, height, width)
    return Layer(amodal=mask, rgb=rgb, category="object", instance_id=instance_id)


def keep_visible(layers: list[Layer], height: int, width: int) -> list[Layer]:
    """The layers that stay clearly visible when painted in this order, and whose occlusions
    are clearly visible too (see drop_hidden and drop_slivers)."""
    layers = drop_hidden(layers, min_visible_pixels(height, width), MIN_VISIBLE_FRACTION)
    return drop_slivers(layers, min_occlusion_pixels(height, width))  # only uncovers: all stay visible
