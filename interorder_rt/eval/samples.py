"""Evaluation samples: modal masks, ground-truth order and amodal masks, from synthetic scenes or COCOA."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from interorder_rt.io.cocoa import CocoaDataset, read_cocoa_image

GROUND_TRUTHS = ("amodal", "depth")  # COCOA: the modal/amodal rule (published protocol) or depth_constraint


@dataclass
class EvalSample:
    """One image to evaluate order recovery on."""

    name: str
    modal: np.ndarray  # (N, H, W) bool, the method's input
    order_gt: np.ndarray  # (N, N) int8
    amodal_gt: np.ndarray | None  # (N, H, W) bool
    image: np.ndarray | None  # (H, W, 3) uint8 RGB, when available


def synthetic_samples(count: int, seed: int) -> Iterator[EvalSample]:
    """Scenes ``generate_scene(seed + k)`` for k in range(count), with their exact order and amodal masks."""
    from interorder_rt.synth import generate_scene

    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    for k in range(count):
        scene = generate_scene(seed + k)
        yield EvalSample(f"synthetic seed {seed + k}", scene.modal, scene.order, scene.amodal, scene.image)


def cocoa_samples(
    dataset: CocoaDataset, images_dir: str | os.PathLike | None = None, ground_truth: str = "amodal"
) -> Iterator[EvalSample]:
    """The images of a COCOA file; pixels are read from ``images_dir`` when given.

    ``ground_truth`` picks the order: ``"amodal"`` (from the modal and amodal masks, the protocol
    the published accuracies use) or ``"depth"`` (the file's ``depth_constraint``).
    """
    if ground_truth not in GROUND_TRUTHS:
        raise ValueError(f"ground_truth must be one of {GROUND_TRUTHS}, got {ground_truth!r}")
    if ground_truth == "depth" and dataset.without_depth:
        raise ValueError(
            f"{len(dataset.without_depth)} image(s) have no depth_constraint (first: image "
            f"{dataset.without_depth[0]}): the depth ground truth is unavailable, use the amodal one (--gt amodal)"
        )
    for k in range(len(dataset)):
        record = dataset[k]
        order = record.order_gt if ground_truth == "amodal" else record.order_depth_constraint
        image = None if images_dir is None else read_cocoa_image(record, images_dir)
        yield EvalSample(f"image {record.image_id}", record.modal, order, record.amodal, image)
