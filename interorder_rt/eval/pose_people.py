"""Real people for the pose evaluation: the persons of a COCO keypoint file who can be moved.

A person is usable when the annotation is not a crowd, its mask covers at least ``MIN_AREA``
pixels and its keypoints hold what a pose transfer needs (neck from both shoulders, a hip)
and at least ``MIN_KEYPOINTS`` of COCO's 17 points.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from interorder_rt.io.coco_mask import decode_polygons, decode_rle
from interorder_rt.pose.formats import coco17_to_coco18
from interorder_rt.pose.protocol import SourcePerson, check_core_keypoints

MIN_AREA = 1500
MIN_KEYPOINTS = 10


@dataclass(frozen=True)
class RealPerson:
    name: str  # "<image id>#<annotation id>"
    image: np.ndarray  # (H, W, 3) uint8 RGB of its photo
    mask: np.ndarray  # (H, W) bool
    keypoints: np.ndarray  # (18, 2) float32 COCO-18

    def source(self) -> SourcePerson:
        return SourcePerson(self.image, self.mask, self.keypoints)


def _mask(segmentation, height: int, width: int) -> np.ndarray:
    if isinstance(segmentation, list):
        return decode_polygons(segmentation, height, width)
    return decode_rle(segmentation, height, width)


def load_people(annotations: str | os.PathLike, images: str | os.PathLike | None = None) -> list[RealPerson]:
    """The usable people of a COCO file (module doc); photos from ``images`` (default: its folder)."""
    path = Path(annotations)
    folder = Path(images) if images is not None else path.parent
    data = json.loads(path.read_text())
    files = {int(im["id"]): im for im in data["images"]}
    people, photos = [], {}
    for ann in data["annotations"]:
        if ann.get("iscrowd") or int(ann.get("num_keypoints", 0)) < MIN_KEYPOINTS:
            continue
        info = files[int(ann["image_id"])]
        height, width = int(info["height"]), int(info["width"])
        mask = _mask(ann["segmentation"], height, width)
        if mask.sum() < MIN_AREA:
            continue
        keypoints = coco17_to_coco18(ann["keypoints"])
        try:
            check_core_keypoints(keypoints)
        except ValueError:
            continue
        if info["file_name"] not in photos:
            bgr = cv2.imread(str(folder / info["file_name"]), cv2.IMREAD_COLOR)
            if bgr is None:
                raise FileNotFoundError(f"cannot read the photo {folder / info['file_name']}")
            photos[info["file_name"]] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        people.append(RealPerson(f"{info['id']}#{ann['id']}", photos[info["file_name"]], mask, keypoints))
    return people
