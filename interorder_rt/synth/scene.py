"""Scenes with exact ground truth: layers painted back to front, and what follows from that.

``Scene.from_layers`` is the only place where modal masks, the image, the paint-rank depth and
the pairwise order are computed; generated, hand-built, transfer-pair and video scenes all go
through it, so they all obey one definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import cv2
import numpy as np

from interorder_rt.keypoints import validate_keypoints

CATEGORIES = ("person", "object")


@dataclass
class Layer:
    """One instance to paint: its complete (amodal) mask and appearance, with its labels."""

    amodal: np.ndarray  # (H, W) bool
    rgb: np.ndarray | tuple[int, int, int]  # (H, W, 3) uint8 full appearance, or one colour
    category: str = "object"  # "person" | "object"
    keypoints: np.ndarray | None = None  # (18, 2) float32 for persons, NaN = missing / outside
    identity: int | None = None
    instance_id: int | None = None  # defaults to the layer's paint rank


@dataclass
class Instance:
    """Ground truth of one visible instance."""

    modal: np.ndarray  # (H, W) bool, visible pixels
    amodal: np.ndarray  # (H, W) bool, complete extent
    rgb: np.ndarray  # (H, W, 3) uint8, full appearance, valid inside amodal, 0 outside
    category: str  # "person" | "object"
    keypoints: np.ndarray | None  # (18, 2) float32 for persons
    identity: int | None
    instance_id: int


@dataclass
class Scene:
    """An image, its background, its instances and their exact order.

    ``depth[i]`` is the paint rank of instance i (0 = painted first, backmost). ``order[i, j]`` is
    1 iff i and j border, ``|modal_i & amodal_j| > 0`` and i is painted above j; -1 the transpose;
    else 0. It equals ``order_from_amodal(modal, amodal, bordering)``.
    """

    image: np.ndarray  # (H, W, 3) uint8
    background: np.ndarray  # (H, W, 3) uint8
    instances: list[Instance] = field(default_factory=list)
    depth: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (N,) int64
    order: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int8))  # (N, N) int8

    @property
    def n(self) -> int:
        return len(self.instances)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def modal(self) -> np.ndarray:
        """(N, H, W) bool visible masks."""
        return self._stack("modal")

    @property
    def amodal(self) -> np.ndarray:
        """(N, H, W) bool complete masks."""
        return self._stack("amodal")

    @property
    def layering(self) -> np.ndarray:
        """(N,) int64 instance indices back to front."""
        return np.argsort(self.depth, kind="stable").astype(np.int64)

    def _stack(self, name: str) -> np.ndarray:
        if not self.instances:
            return np.zeros((0, self.height, self.width), dtype=bool)
        return np.stack([getattr(inst, name) for inst in self.instances])

    @classmethod
    def from_layers(cls, background: np.ndarray, layers: Sequence[Layer]) -> "Scene":
        """Paint ``layers`` (back to front) over ``background`` and derive the ground truth.

        Instance k is ``layers[k]``; a layer whose mask ends up fully covered keeps an empty
        modal mask (use ``drop_hidden`` first to avoid that).
        """
        background = _check_image(background, "background")
        height, width = background.shape[:2]
        amodal = np.zeros((len(layers), height, width), dtype=bool)
        for k, layer in enumerate(layers):
            amodal[k] = _check_mask(layer.amodal, (height, width), k)
        labels = top_labels(amodal)
        modal = _modal_from_labels(labels, len(layers))
        image = background.copy()
        instances = []
        for k, layer in enumerate(layers):
            rgb = _layer_rgb(layer, amodal[k], k)
            cv2.copyTo(rgb, modal[k].view(np.uint8), image)
            instances.append(Instance(
                modal=modal[k], amodal=amodal[k], rgb=rgb, category=_check_category(layer.category, k),
                keypoints=_layer_keypoints(layer, k),
                identity=layer.identity, instance_id=k if layer.instance_id is None else int(layer.instance_id)))
        order = _painted_order(modal, amodal, _bordering(labels, len(layers)))
        return cls(image=image, background=background.copy(), instances=instances,
                   depth=np.arange(len(layers), dtype=np.int64), order=order)

    def reindexed(self, permutation: Sequence[int]) -> "Scene":
        """The same scene with instances listed in ``permutation`` order (depth and order follow)."""
        perm = np.asarray(permutation, dtype=np.int64)
        if sorted(perm.tolist()) != list(range(self.n)):
            raise ValueError(f"permutation must reorder all {self.n} instances, got {perm.tolist()}")
        return Scene(image=self.image, background=self.background, instances=[self.instances[k] for k in perm],
                     depth=self.depth[perm], order=self.order[np.ix_(perm, perm)])

    def index_of(self, instance_id: int) -> int:
        """Index of the instance with ``instance_id``."""
        for k, inst in enumerate(self.instances):
            if inst.instance_id == instance_id:
                return k
        raise ValueError(f"no instance with instance_id {instance_id} in this scene")


def top_labels(amodal: np.ndarray) -> np.ndarray:
    """(H, W) uint8: 1 + index of the topmost mask at each pixel (masks painted in index order), 0 = none."""
    n = amodal.shape[0]
    if n > 255:
        raise ValueError(f"at most 255 layers fit one label map, got {n}")
    labels = np.zeros(amodal.shape[1:], dtype=np.uint8)
    for k in range(n):
        labels[amodal[k]] = k + 1
    return labels


def _modal_from_labels(labels: np.ndarray, n: int) -> np.ndarray:
    """(N, H, W) bool visible masks from a top_labels map."""
    return labels[None] == np.arange(1, n + 1, dtype=np.uint8)[:, None, None]


def _bordering(labels: np.ndarray, n: int) -> np.ndarray:
    """(N, N) bool: the regions of labels i+1 and j+1 are 4-neighbours somewhere.

    For disjoint masks (modal masks) this is the 3x3-cross bordering of the mask ops.
    """
    touch = np.zeros((n + 1, n + 1), dtype=bool)
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1], labels[1:])):
        edge = a != b
        touch[a[edge], b[edge]] = True
    touch = touch[1:, 1:] | touch[1:, 1:].T
    np.fill_diagonal(touch, False)
    return touch


def _painted_order(modal: np.ndarray, amodal: np.ndarray, bordering: np.ndarray) -> np.ndarray:
    """Order of masks painted in index order: upper j occludes lower i when they border and j covers part of i."""
    order = np.zeros(bordering.shape, dtype=np.int8)
    for i, j in zip(*np.nonzero(np.triu(bordering, 1))):
        if np.count_nonzero(modal[j] & amodal[i]):
            order[j, i], order[i, j] = 1, -1
    return order


def drop_hidden(layers: Sequence[Layer], min_pixels: int, min_fraction: float = 0.0) -> list[Layer]:
    """The layers that stay visible: at least ``min_pixels`` and ``min_fraction`` of their mask shows.

    Removing a layer only uncovers the others, so one pass leaves every kept layer visible.
    """
    if not layers:
        return []
    amodal = np.stack([np.asarray(layer.amodal, dtype=bool) for layer in layers])
    shown = np.bincount(top_labels(amodal).ravel(), minlength=len(layers) + 1)[1:]
    total = np.count_nonzero(amodal.reshape(len(layers), -1), axis=1)
    keep = (shown >= max(min_pixels, 1)) & (shown >= min_fraction * total)
    return [layer for layer, k in zip(layers, keep) if k]


def drop_slivers(layers: Sequence[Layer], min_pixels: int) -> list[Layer]:
    """The layers without sliver occlusions: where a layer hides only 1 to ``min_pixels - 1``
    pixels of one below it (an occlusion that is barely observable in the masks), one of the two
    goes: the object when the other is a person, else the upper one.

    Removing a layer uncovers others, which can create new slivers, so this repeats until none is left.
    """
    layers = list(layers)
    while layers:
        amodal = np.stack([np.asarray(layer.amodal, dtype=bool) for layer in layers])
        modal = _modal_from_labels(top_labels(amodal), len(layers))
        pair = next(((i, j) for j in range(1, len(layers)) for i in range(j)
                     if 0 < np.count_nonzero(amodal[i] & modal[j]) < min_pixels), None)
        if pair is None:
            return layers
        lower, upper = pair
        keep_upper = layers[upper].category == "person" and layers[lower].category != "person"
        del layers[lower if keep_upper else upper]
    return layers


def _check_image(image: np.ndarray, name: str) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"{name} must be an (H, W, 3) uint8 array, got {image.shape} {image.dtype}")
    return image


def _check_mask(mask: np.ndarray, size: tuple[int, int], k: int) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.shape != size:
        raise ValueError(f"layer {k}: amodal mask must have shape {size}, got {mask.shape}")
    if mask.dtype != bool:
        raise TypeError(f"layer {k}: amodal mask must be bool, got {mask.dtype}")
    return mask


def _check_category(category: str, k: int) -> str:
    if category not in CATEGORIES:
        raise ValueError(f"layer {k}: category must be one of {CATEGORIES}, got {category!r}")
    return category


def _layer_keypoints(layer: Layer, k: int) -> np.ndarray | None:
    if layer.keypoints is None:
        return None
    return validate_keypoints(layer.keypoints, name=f"layer {k} keypoints")


def _layer_rgb(layer: Layer, amodal: np.ndarray, k: int) -> np.ndarray:
    """(H, W, 3) uint8 appearance, zero outside the amodal mask."""
    rgb = layer.rgb
    if isinstance(rgb, np.ndarray) and rgb.ndim == 3:
        if rgb.shape != amodal.shape + (3,) or rgb.dtype != np.uint8:
            raise ValueError(f"layer {k}: rgb must be {amodal.shape + (3,)} uint8, got {rgb.shape} {rgb.dtype}")
        rgb = np.ascontiguousarray(rgb)
    else:
        colour = np.asarray(rgb)
        if colour.shape != (3,):
            raise ValueError(f"layer {k}: rgb must be an (H, W, 3) image or an RGB colour, got shape {colour.shape}")
        rgb = np.empty(amodal.shape + (3,), dtype=np.uint8)
        rgb[:] = np.clip(colour, 0, 255).astype(np.uint8)
    return cv2.bitwise_and(rgb, rgb, mask=amodal.view(np.uint8))
