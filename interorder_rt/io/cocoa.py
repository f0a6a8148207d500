"""COCO-Amodal (COCOA) annotations: modal and amodal masks and two ground-truth orders per image.

File format: top level ``images`` (``id``, ``file_name``, ``height``, ``width``) and
``annotations``, one per image: ``image_id``, ``size`` (number of regions), ``regions`` and
``depth_constraint`` ("1-2,3-4": 1-indexed regions, "a-b" = a occludes b; may be empty). Files met in
the wild may lack ``depth_constraint`` (that image's depth ground truth is then unavailable:
``order_depth_constraint`` is None) or carry a ``size`` that disagrees with the regions (the
regions count); each is reported in one warning for the whole file. A region
has ``segmentation`` (the amodal polygon, a flat x, y list), ``name``, ``isStuff`` and, only when
occluded, ``visible_mask`` / ``invisible_mask`` as RLE ``{counts, size}``; an unoccluded region's
modal mask is its amodal polygon. ``invisible_mask`` is read only where ``visible_mask`` is
missing (the modal mask is then the polygon minus it). Numbers may arrive as strings. One
per-image annotation object (``regions`` at the top level) loads too; its image size then comes
from an RLE ``size``.

Structure, polygons and depth constraints are checked when the file is loaded; masks are decoded
(and their RLEs checked) when an image is accessed, so a large file does not sit in memory as
masks. A region whose polygon has fewer than 3 points is empty: it is skipped, counted in
``CocoaDataset.skipped_empty`` and reported in one warning. Anything else that is malformed raises
``CocoaFormatError`` naming the image, the region and the field.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interorder_rt.io.coco_mask import check_image_size, check_polygon, decode_polygons, decode_rle
from interorder_rt.io.image import read_rgb
from interorder_rt.ops import MaskSet, order_from_amodal


class CocoaFormatError(ValueError):
    """A COCOA annotation file that does not follow the format."""


@dataclass
class CocoaImage:
    """One annotated image: N instances (regions) in file order, stuff optionally left out."""

    image_id: int
    file_name: str | None  # None for a single annotation object without an ``images`` entry
    height: int
    width: int
    names: list[str]
    modal: np.ndarray  # (N, H, W) bool, visible masks
    amodal: np.ndarray  # (N, H, W) bool, complete masks (the polygons)
    is_stuff: np.ndarray  # (N,) bool
    order_depth_constraint: np.ndarray | None  # (N, N) int8 from ``depth_constraint``; None without one
    order_gt: np.ndarray  # (N, N) int8 from the modal/amodal rule (the published protocol)
    region_index: np.ndarray  # (N,) int64, 1-based index of each instance in the file's regions

    @property
    def n(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class _Region:
    index: int  # 1-based position in the annotation's regions
    name: str
    is_stuff: bool
    polygons: list[list[float]]
    visible: object  # RLE as found in the file, or None
    invisible: object


@dataclass(frozen=True)
class _Entry:
    image_id: int
    file_name: str | None
    height: int
    width: int
    regions: list[_Region]
    occludes: list[tuple[int, int]] | None  # 1-based (front, back) region pairs; None: no depth_constraint
    size_mismatch: tuple[int, int] | None  # (``size``, regions in the file) where the two disagree


class CocoaDataset(Sequence):
    """The images of one COCOA file; ``dataset[k]`` decodes image k to a ``CocoaImage``."""

    def __init__(self, entries: list[_Entry], skipped_empty: int, include_stuff: bool) -> None:
        self._entries = entries
        self.skipped_empty = skipped_empty
        self.include_stuff = include_stuff
        self.without_depth = [entry.image_id for entry in entries if entry.occludes is None]

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> CocoaImage:  # type: ignore[override]
        if not isinstance(index, (int, np.integer)):
            raise TypeError(f"CocoaDataset index must be an integer, got {type(index).__name__}")
        return _decode(self._entries[index], self.include_stuff)


def load_cocoa(source: str | os.PathLike | dict, *, include_stuff: bool = True) -> CocoaDataset:
    """Load a COCOA annotation file (or its parsed JSON object).

    ``include_stuff=False`` leaves out stuff regions (``isStuff``) and the depth constraints
    that involve them.
    """
    label = str(source) if not isinstance(source, dict) else "COCOA object"
    data = source if isinstance(source, dict) else _read_json(Path(source))
    if not isinstance(data, dict):
        raise CocoaFormatError(f"{label}: top level must be a JSON object, got {type(data).__name__}")
    if "annotations" in data:
        images = _image_table(data.get("images", []), label)
        annotations = data["annotations"]
        if not isinstance(annotations, list):
            raise CocoaFormatError(f"{label}: field 'annotations' must be a list")
    elif "regions" in data:
        images, annotations = {}, [data]
    else:
        raise CocoaFormatError(
            f"{label}: expected 'annotations' (a COCOA file) or 'regions' (one image's annotation)"
        )
    entries, skipped = [], 0
    for position, annotation in enumerate(annotations):
        entry, empty = _parse_annotation(annotation, position, images)
        entries.append(entry)
        skipped += empty
    if skipped:
        warnings.warn(f"{label}: skipped {skipped} empty region(s) (polygon with fewer than 3 points)")
    dataset = CocoaDataset(entries, skipped, include_stuff)
    if dataset.without_depth:
        warnings.warn(
            f"{label}: {len(dataset.without_depth)} of {len(entries)} image(s) have no 'depth_constraint' "
            f"(first: image {dataset.without_depth[0]}); their depth ground truth is unavailable, "
            "the order from modal and amodal masks is not affected"
        )
    resized = [entry for entry in entries if entry.size_mismatch is not None]
    if resized:
        (stated, found), first = resized[0].size_mismatch, resized[0].image_id
        warnings.warn(
            f"{label}: {len(resized)} image(s) have a 'size' other than their number of regions (first: image "
            f"{first}, size {stated}, {found} regions); the regions are used"
        )
    return dataset


def read_cocoa_image(record: CocoaImage, images_dir: str | os.PathLike) -> np.ndarray:
    """The (H, W, 3) uint8 RGB pixels of ``record`` from ``images_dir``.

    Raises ``FileNotFoundError`` when the file is missing and ``ValueError`` when it is corrupt,
    has another size than annotated, or the record has no file name.
    """
    if record.file_name is None:
        raise ValueError(f"image {record.image_id}: the annotation names no image file")
    image = read_rgb(Path(images_dir) / record.file_name)
    if image.shape[:2] != (record.height, record.width):
        raise ValueError(
            f"image {record.image_id} ({record.file_name}): file is {image.shape[1]}x{image.shape[0]}, "
            f"annotated as {record.width}x{record.height}"
        )
    return image


def _read_json(path: Path) -> object:
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CocoaFormatError(f"{path}: not a JSON file ({exc})") from None


def _field(obj: object, name: str, where: str) -> object:
    if not isinstance(obj, dict):
        raise CocoaFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if name not in obj:
        raise CocoaFormatError(f"{where}: missing field {name!r}")
    return obj[name]


def _integer(value: object, where: str, name: str) -> int:
    """An integer given as a JSON number or a numeric string."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            pass
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise CocoaFormatError(f"{where}: field {name!r} must be an integer, got {value!r}")


def _boolean(value: object, where: str, name: str) -> bool:
    """A flag given as a JSON boolean, 0/1, or their string forms."""
    if isinstance(value, str):
        value = value.strip().lower()
    for truth, spellings in ((True, (True, 1, "true", "1")), (False, (False, 0, "false", "0"))):
        if any(value == s and type(value) is type(s) for s in spellings):
            return truth
    raise CocoaFormatError(f"{where}: field {name!r} must be a boolean, got {value!r}")


def _check_size(height: int, width: int, where: str) -> None:
    try:
        check_image_size(height, width)
    except ValueError as exc:
        raise CocoaFormatError(f"{where}: {exc}") from None


def _image_table(images: object, label: str) -> dict[int, tuple[str | None, int, int]]:
    if not isinstance(images, list):
        raise CocoaFormatError(f"{label}: field 'images' must be a list")
    table = {}
    for position, info in enumerate(images):
        where = f"{label}: images[{position}]"
        image_id = _integer(_field(info, "id", where), where, "id")
        height = _integer(_field(info, "height", where), where, "height")
        width = _integer(_field(info, "width", where), where, "width")
        _check_size(height, width, where)
        file_name = info.get("file_name")
        table[image_id] = (None if file_name is None else str(file_name), height, width)
    return table


def _parse_annotation(annotation: object, position: int, images: dict) -> tuple[_Entry, int]:
    where = f"annotations[{position}]"
    image_id = _integer(_field(annotation, "image_id", where), where, "image_id")
    where = f"image {image_id}"
    regions = _field(annotation, "regions", where)
    if not isinstance(regions, list):
        raise CocoaFormatError(f"{where}: field 'regions' must be a list")
    stated_size = _integer(annotation["size"], where, "size") if "size" in annotation else len(regions)
    if image_id in images:
        file_name, height, width = images[image_id]
    else:
        file_name, (height, width) = annotation.get("file_name"), _rle_size(regions, where)
    parsed = [
        _parse_region(region, k + 1, height, width, f"{where}, region {k + 1}") for k, region in enumerate(regions)
    ]
    text = annotation.get("depth_constraint")
    occludes = None if text is None else _parse_depth_constraint(text, len(regions), where)
    kept = [region for region in parsed if region.polygons]
    entry = _Entry(image_id, file_name, height, width, kept, occludes,
                   None if stated_size == len(regions) else (stated_size, len(regions)))
    return entry, len(parsed) - len(kept)


def _rle_size(regions: list, where: str) -> tuple[int, int]:
    """Image size from the first RLE ``size`` among the regions (no ``images`` entry to ask)."""
    for region in regions:
        for key in ("visible_mask", "invisible_mask"):
            rle = region.get(key) if isinstance(region, dict) else None
            if isinstance(rle, dict) and isinstance(rle.get("size"), list) and len(rle["size"]) == 2:
                height, width = (_integer(s, where, f"{key}.size") for s in rle["size"])
                _check_size(height, width, where)
                return height, width
    raise CocoaFormatError(f"{where}: image size unknown (no 'images' entry and no region with an RLE 'size')")


def _parse_region(region: object, index: int, height: int, width: int, where: str) -> _Region:
    name = _field(region, "name", where)
    is_stuff = _boolean(_field(region, "isStuff", where), where, "isStuff")
    polygons = _parse_polygons(_field(region, "segmentation", where), height, width, where)
    return _Region(index, str(name), is_stuff, polygons, region.get("visible_mask"), region.get("invisible_mask"))


def _parse_polygons(segmentation: object, height: int, width: int, where: str) -> list[list[float]]:
    """Polygons with at least 3 points (fewer: a degenerate part, dropped)."""
    if not isinstance(segmentation, list):
        raise CocoaFormatError(f"{where}: field 'segmentation' must be a list of coordinates")
    parts = segmentation if segmentation and all(isinstance(p, list) for p in segmentation) else [segmentation]
    polygons = []
    for part in parts:
        try:
            coords = check_polygon(part, height, width)
        except ValueError as exc:
            raise CocoaFormatError(f"{where}: field 'segmentation' {exc}") from None
        if coords.size >= 6:
            polygons.append(coords.tolist())
    return polygons


def _parse_depth_constraint(text: object, n_regions: int, where: str) -> list[tuple[int, int]]:
    if not isinstance(text, str):
        raise CocoaFormatError(f"{where}: field 'depth_constraint' must be a string like '1-2,3-4'")
    pairs = []
    for token in filter(None, (t.strip() for t in text.split(","))):
        parts = token.split("-")
        try:
            front, back = (int(p) for p in parts)
        except ValueError:
            raise CocoaFormatError(f"{where}: field 'depth_constraint' has {token!r}, expected 'a-b'") from None
        if not (1 <= front <= n_regions and 1 <= back <= n_regions) or front == back:
            raise CocoaFormatError(
                f"{where}: field 'depth_constraint' has {token!r}: regions are numbered 1..{n_regions}, a != b"
            )
        pairs.append((front, back))
    return pairs


def _decode(entry: _Entry, include_stuff: bool) -> CocoaImage:
    regions = [r for r in entry.regions if include_stuff or not r.is_stuff]
    h, w, n = entry.height, entry.width, len(regions)
    modal = np.zeros((n, h, w), dtype=bool)
    amodal = np.zeros((n, h, w), dtype=bool)
    for k, region in enumerate(regions):
        amodal[k] = decode_polygons(region.polygons, h, w)
        modal[k] = _modal_mask(region, amodal[k], f"image {entry.image_id}, region {region.index}")
    position = {region.index: k for k, region in enumerate(regions)}
    return CocoaImage(
        image_id=entry.image_id,
        file_name=entry.file_name,
        height=h,
        width=w,
        names=[r.name for r in regions],
        modal=modal,
        amodal=amodal,
        is_stuff=np.array([r.is_stuff for r in regions], dtype=bool),
        order_depth_constraint=None if entry.occludes is None else _order_from_pairs(entry.occludes, position),
        order_gt=_order_from_masks(modal, amodal),
        region_index=np.array([r.index for r in regions], dtype=np.int64),
    )


def _modal_mask(region: _Region, amodal: np.ndarray, where: str) -> np.ndarray:
    """``visible_mask`` when given, else the amodal mask minus ``invisible_mask``, else the amodal mask."""
    h, w = amodal.shape
    for key, rle in (("visible_mask", region.visible), ("invisible_mask", region.invisible)):
        if rle is None:
            continue
        try:
            mask = decode_rle(rle, h, w)
        except ValueError as exc:
            raise CocoaFormatError(f"{where}: field {key!r}: {exc}") from None
        return mask if key == "visible_mask" else amodal & ~mask
    return amodal.copy()


def _order_from_pairs(occludes: list[tuple[int, int]], position: dict[int, int]) -> np.ndarray:
    """Order matrix from (front, back) region pairs; a pair given both ways has no single order (0)."""
    n = len(position)
    front_of = np.zeros((n, n), dtype=bool)
    for front, back in occludes:
        if front in position and back in position:
            front_of[position[front], position[back]] = True
    return front_of.astype(np.int8) - front_of.T.astype(np.int8)


def _order_from_masks(modal: np.ndarray, amodal: np.ndarray) -> np.ndarray:
    if modal.shape[0] == 0:
        return np.zeros((0, 0), dtype=np.int8)
    return order_from_amodal(modal, amodal, MaskSet(modal).bordering_matrix())
