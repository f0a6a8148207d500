"""Per-image annotation JSON for ``interorder transfer`` and ``interorder video`` (docs/annotations.md).

One JSON object per image: its ``height``/``width``, a list of ``instances`` (a COCO RLE or
polygon ``segmentation``, a ``category``, ``keypoints`` for people, an optional stable ``id``)
and ``person``, the index (or indices) of the person to transfer or to replace. A video's
annotations are a directory of such files (one per frame, in file-name order) or a JSON Lines
file (one object per line, in frame order).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from pycocotools import mask as mask_utils

from interorder_rt.frame import Frame
from interorder_rt.io.atomic import atomic_open
from interorder_rt.io.coco_mask import check_image_size, decode_polygons, decode_rle
from interorder_rt.keypoints import NUM_KEYPOINTS, validate_keypoints
from interorder_rt.pose.formats import coco17_to_coco18

COCO17_FLAT = 17 * 3  # COCO keypoints: x, y, v for 17 points; v = 0 means not labelled


@dataclass
class ImageAnnotation:
    """The instances of one image and which of them is the person of interest."""

    masks: np.ndarray  # (N, H, W) bool
    categories: list[str]
    keypoints: list[np.ndarray | None]  # (18, 2) float32 COCO-18 per person, None otherwise
    person: tuple[int, ...]  # the person(s) to transfer or replace
    instance_ids: tuple[int, ...] | None = None  # stable ids across a video, when given

    @property
    def height(self) -> int:
        return int(self.masks.shape[1])

    @property
    def width(self) -> int:
        return int(self.masks.shape[2])

    def frame(self, image: np.ndarray) -> Frame:
        """The engine's reference :class:`Frame` for ``image``, replacing ``person``."""
        if image.shape[:2] != (self.height, self.width):
            raise ValueError(
                f"image is {image.shape[1]}x{image.shape[0]} but its annotation says {self.width}x{self.height}"
            )
        return Frame(
            image=image,
            masks=self.masks,
            target=list(self.person),
            keypoints=[self.keypoints[p] for p in self.person],
            instance_ids=self.instance_ids,
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(values: list, *, where: str) -> np.ndarray:
    """A list of JSON numbers as float64; one too large for a float is an error, not an inf."""
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except OverflowError:
        raise ValueError(f"{where}: a number is too large") from None


def parse_keypoints(value: Any, *, where: str) -> np.ndarray:
    """(18, 2) float32 COCO-18 keypoints from 18 ``[x, y]`` pairs (``null`` or an exact ``[0, 0]``
    = missing, as OpenPose writes them) or a flat COCO-17 ``[x, y, v] * 17`` list (``v = 0`` = missing)."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: keypoints must be a list, got {type(value).__name__}")
    if len(value) == COCO17_FLAT and all(_is_number(v) for v in value):
        coco17 = _numbers(value, where=f"{where}: keypoints").reshape(17, 3)
        with np.errstate(over="ignore"):  # beyond float32 becomes inf, which validation refuses
            coco18 = coco17_to_coco18(coco17)
        return validate_keypoints(coco18, name=f"{where}: keypoints")
    if len(value) != NUM_KEYPOINTS:
        raise ValueError(
            f"{where}: keypoints must be {NUM_KEYPOINTS} [x, y] pairs (COCO-18) or {COCO17_FLAT} numbers "
            f"(COCO-17 x, y, v), got a list of {len(value)}"
        )
    kp = np.full((NUM_KEYPOINTS, 2), np.nan)
    for k, point in enumerate(value):
        if point is None:
            continue
        if not (isinstance(point, list) and len(point) == 2 and all(_is_number(c) for c in point)):
            raise ValueError(f"{where}: keypoint {k} must be [x, y] or null, got {point!r}")
        kp[k] = _numbers(point, where=f"{where}: keypoint {k}")
    return validate_keypoints(kp, name=f"{where}: keypoints")


def parse_segmentation(value: Any, height: int, width: int, *, where: str) -> np.ndarray:
    """(H, W) bool mask from a COCO RLE object or a list of flat polygons ``[x1, y1, x2, y2, ...]``."""
    if isinstance(value, dict):
        try:
            return decode_rle(value, height, width)
        except ValueError as exc:
            raise ValueError(f"{where}: bad RLE segmentation: {exc}") from None
    if isinstance(value, list) and value and all(isinstance(p, list) for p in value):
        for k, polygon in enumerate(value):
            if len(polygon) < 6 or len(polygon) % 2 or not all(_is_number(c) for c in polygon):
                raise ValueError(f"{where}: polygon {k} must be a flat list of at least 3 x, y pairs")
        polygons = [_numbers(p, where=f"{where}: polygon {k}") for k, p in enumerate(value)]
        try:
            return decode_polygons(polygons, height, width)
        except ValueError as exc:
            raise ValueError(f"{where}: bad polygon segmentation: {exc}") from None
    raise ValueError(f"{where}: segmentation must be an RLE object or a list of polygons")


def _image_size(obj: dict, where: str, size: tuple[int, int] | None) -> tuple[int, int]:
    """The annotation's ``(height, width)``, checked (and against ``size``) before any mask is decoded."""
    for name in ("height", "width"):
        value = obj.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{where}: '{name}' must be a positive integer, got {value!r}")
    height, width = obj["height"], obj["width"]
    if size is not None and (height, width) != tuple(size):
        raise ValueError(f"{where}: the annotation is {width}x{height} but the image is {size[1]}x{size[0]}")
    try:
        return check_image_size(height, width)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def parse_annotation(obj: Any, *, where: str = "annotation", size: tuple[int, int] | None = None) -> ImageAnnotation:
    """An :class:`ImageAnnotation` from one decoded JSON object; errors name the field at fault.

    ``size``, the ``(height, width)`` of the annotated image, is checked before any mask is decoded.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    height, width = _image_size(obj, where, size)
    instances = obj.get("instances")
    if not isinstance(instances, list) or not instances:
        raise ValueError(f"{where}: 'instances' must be a non-empty list")
    masks, categories, keypoints, ids = [], [], [], []
    for k, inst in enumerate(instances):
        at = f"{where}: instance {k}"
        if not isinstance(inst, dict) or "segmentation" not in inst:
            raise ValueError(f"{at}: needs a 'segmentation'")
        masks.append(parse_segmentation(inst["segmentation"], height, width, where=at))
        categories.append(str(inst.get("category", "object")))
        keypoints.append(None if inst.get("keypoints") is None else parse_keypoints(inst["keypoints"], where=at))
        ids.append(inst.get("id"))
    person = _parse_person(obj.get("person"), categories, where)
    for p in person:
        if keypoints[p] is None:
            raise ValueError(f"{where}: instance {p} is the person but has no 'keypoints'")
    if all(i is None for i in ids):
        instance_ids = None
    elif any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise ValueError(f"{where}: give every instance an integer 'id', or none of them")
    else:
        instance_ids = tuple(ids)
    return ImageAnnotation(np.stack(masks), categories, keypoints, person, instance_ids)


def _parse_person(value: Any, categories: list[str], where: str) -> tuple[int, ...]:
    """The ``person`` field; when absent, the only instance whose category is ``person``."""
    if value is None:
        people = [k for k, c in enumerate(categories) if c == "person"]
        if len(people) != 1:
            raise ValueError(f"{where}: 'person' is missing and there are {len(people)} person instances; name one")
        return (people[0],)
    raw = value if isinstance(value, list) else [value]
    if not raw or any(isinstance(p, bool) or not isinstance(p, int) or not 0 <= p < len(categories) for p in raw):
        raise ValueError(
            f"{where}: 'person' must be an instance index (or a list) in [0, {len(categories)}), got {value!r}"
        )
    return tuple(raw)


def annotation_to_dict(ann: ImageAnnotation) -> dict:
    """The JSON object for ``ann``: compressed RLE masks, COCO-18 keypoints with ``null`` for missing."""
    instances = []
    for k in range(ann.masks.shape[0]):
        rle = mask_utils.encode(np.asfortranarray(ann.masks[k].astype(np.uint8)))
        inst: dict[str, Any] = {
            "category": ann.categories[k],
            "segmentation": {"size": [ann.height, ann.width], "counts": rle["counts"].decode("ascii")},
        }
        if ann.keypoints[k] is not None:
            inst["keypoints"] = [None if np.isnan(p).any() else [float(p[0]), float(p[1])] for p in ann.keypoints[k]]
        if ann.instance_ids is not None:
            inst["id"] = int(ann.instance_ids[k])
        instances.append(inst)
    person: int | list[int] = ann.person[0] if len(ann.person) == 1 else list(ann.person)
    return {"height": ann.height, "width": ann.width, "instances": instances, "person": person}


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    return _parse_json(path.read_bytes(), where=str(path))


def _parse_json(text: str | bytes, *, where: str) -> Any:
    """Decoded JSON; too deep nesting or too long integers are invalid JSON here, not a crash."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"{where}: not valid JSON: {type(exc).__name__}: {str(exc)[:200]}") from None


def load_annotation(path: str | os.PathLike, *, size: tuple[int, int] | None = None) -> ImageAnnotation:
    """Read one per-image annotation JSON file; ``size`` is the ``(height, width)`` of its image."""
    path = Path(path)
    return parse_annotation(_read_json(path), where=str(path), size=size)


def save_annotation(path: str | os.PathLike, ann: ImageAnnotation) -> None:
    """Write ``ann`` as a per-image annotation JSON file, atomically."""
    with atomic_open(path, "w") as f:
        json.dump(annotation_to_dict(ann), f)


class VideoAnnotations:
    """Per-frame annotations of a video: a directory of JSON files or one JSON Lines file.

    ``len()`` counts frames without decoding masks; iteration parses one frame at a time. ``size``,
    the ``(height, width)`` of the video, is checked in each frame before its masks are decoded.
    """

    def __init__(self, path: str | os.PathLike, *, size: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        self.size = size
        if self.path.is_dir():
            self._files = sorted(self.path.glob("*.json"))
            if not self._files:
                raise ValueError(f"annotation directory has no .json files: {self.path}")
            self._count = len(self._files)
        elif self.path.is_file():
            self._files = None
            with self.path.open(encoding="utf-8") as f:
                self._count = sum(1 for line in f if line.strip())
            if not self._count:
                raise ValueError(f"annotation file is empty: {self.path}")
        else:
            raise FileNotFoundError(f"annotations not found (expected a directory or a .jsonl file): {self.path}")

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[ImageAnnotation]:
        if self._files is not None:
            for file in self._files:
                yield load_annotation(file, size=self.size)
            return
        with self.path.open(encoding="utf-8") as f:
            lines = (line for line in f if line.strip())
            for frame, line in enumerate(lines):
                where = f"{self.path}: frame {frame}"
                yield parse_annotation(_parse_json(line, where=where), where=where, size=self.size)
