"""Frames from the output of common segmenters and pose models, with no dependency on any of them.

Each adapter reads the attributes its library documents (duck typing: nothing is imported) and
returns a :class:`~interorder_rt.frame.Frame`:

- :func:`from_ultralytics`: a ``Results`` of a YOLO segment model (``masks.data``, ``boxes.cls``,
  ``names``), optionally with a second ``Results`` of a pose model (``keypoints.xy``/``conf``).
- :func:`from_detectron2`: an ``Instances`` (``pred_masks``, ``pred_classes``, ``pred_keypoints``).
- :func:`from_coco_results`: a COCO results list (``segmentation`` and/or ``keypoints`` entries).
- :func:`from_masks`: plain masks with optional keypoints.

On the way in, keypoints become COCO-18 (COCO-17, or any layout whose point names are given);
a point whose confidence is at most ``min_keypoint_score`` is missing. When masks and keypoints
come from two models, each person is given the keypoints whose box overlaps its box most (IoU at
least ``min_box_iou``); a person with none has no keypoints. Masks at another resolution than the
image are resized to it (a warning says so); instances whose mask is empty are dropped.

``target`` picks whom to replace: an index or a list of indices among the instances as the model
listed them, ``"largest"`` (default: the person with the largest mask among those whose
keypoints the pose stage can use, or no one), ``"all"`` (every such person) or ``None`` (no one).
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import cv2
import numpy as np

from interorder_rt.frame import Frame
from interorder_rt.io.coco_mask import decode_polygons, decode_rle
from interorder_rt.keypoints import INDEX, NUM_KEYPOINTS
from interorder_rt.ops.maskset import MaskSet
from interorder_rt.pose.protocol import check_core_keypoints
from interorder_rt.track import greedy_match

COCO17_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
Target = int | Sequence[int] | str | None


# ---------------------------------------------------------------- library adapters


def from_ultralytics(
    result: Any, *, image: Any = None, pose: Any = None, target: Target = "largest",
    min_keypoint_score: float = 0.5, min_box_iou: float = 0.5, keypoint_names: Sequence[str] = COCO17_NAMES,
) -> Frame:
    """A frame from an ultralytics ``Results`` of a segment model.

    ``image``: the frame as (H, W, 3) uint8 RGB (default: ``result.orig_img``, which ultralytics
    keeps in BGR). ``masks.data`` is at the model's letterboxed input size unless the model ran
    with ``retina_masks=True``; the letterbox padding is cut off before resizing. Keypoints come
    from ``result.keypoints`` when the same model gave them, else from ``pose`` (a pose model's
    ``Results`` on the same image), matched by box overlap.
    """
    rgb = as_rgb(image if image is not None else _to_numpy(result.orig_img)[..., ::-1])
    classes = _to_numpy(result.boxes.cls).astype(int) if getattr(result, "boxes", None) is not None else []
    if getattr(result, "masks", None) is not None:
        masks = fit_masks(_to_numpy(result.masks.data), rgb.shape[:2], letterbox=True)
    elif len(classes):
        raise ValueError("the ultralytics result has no masks: run a segment model (e.g. yolo11n-seg)")
    else:  # ultralytics gives no masks when nothing was detected
        masks = np.zeros((0, *rgb.shape[:2]), bool)
    names = getattr(result, "names", None) or {}
    categories = [str(names.get(c, c)) for c in classes]
    people = pose if pose is not None else result
    points, scores = _ultralytics_keypoints(people)
    keypoints = [None] * len(masks)
    if points is not None:
        poses = [to_coco18(p, s, keypoint_names, min_keypoint_score) for p, s in zip(points, scores)]
        if people is result:
            keypoints = poses
        else:
            keypoints = _match_poses(masks, categories, poses, _to_numpy(people.boxes.xyxy), min_box_iou)
    return build_frame(rgb, masks, categories, keypoints, target)


def _ultralytics_keypoints(result: Any) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(N, K, 2) points and (N, K) confidences of ``result.keypoints`` (None when absent).

    Without confidences, ultralytics marks a missing point as (0, 0).
    """
    kp = getattr(result, "keypoints", None)
    if kp is None:
        return None, None
    points = _to_numpy(kp.xy).astype(np.float64)
    conf = getattr(kp, "conf", None)
    if conf is None:
        return points, np.where((points == 0).all(axis=-1), 0.0, 1.0)
    return points, _to_numpy(conf).astype(np.float64)


def from_detectron2(
    instances: Any, image: Any, *, target: Target = "largest", class_names: Sequence[str] | None = None,
    person_class: int = 0, min_keypoint_score: float = 0.05, min_box_iou: float = 0.5, pose: Any = None,
    keypoint_names: Sequence[str] = COCO17_NAMES,
) -> Frame:
    """A frame from a detectron2 ``Instances`` of one image (``outputs["instances"]``).

    ``image`` is the frame as RGB (detectron2 reads BGR; convert before). Categories come from
    ``class_names`` (the metadata's ``thing_classes``) or are ``person`` for ``person_class`` and
    ``object`` otherwise. ``pred_keypoints`` (N, K, 3) hold x, y and a score; detectron2 draws
    points scoring above 0.05. Keypoints from another model: ``pose``, an ``Instances`` with
    ``pred_keypoints`` and ``pred_boxes``, matched by box overlap.
    """
    rgb = as_rgb(image)
    if getattr(instances, "pred_masks", None) is None:
        raise ValueError("the detectron2 instances have no pred_masks: run an instance segmentation model")
    masks = fit_masks(_to_numpy(instances.pred_masks), rgb.shape[:2])
    classes = _to_numpy(instances.pred_classes).astype(int)
    if class_names is not None:
        categories = [str(class_names[c]) for c in classes]
    else:
        categories = ["person" if c == person_class else "object" for c in classes]
    keypoints: list[np.ndarray | None] = [None] * len(masks)
    people = pose if pose is not None else instances
    raw = getattr(people, "pred_keypoints", None)
    if raw is not None:
        raw = _to_numpy(raw).astype(np.float64)
        poses = [to_coco18(p[:, :2], p[:, 2], keypoint_names, min_keypoint_score) for p in raw]
        if people is instances:
            keypoints = poses
        else:
            boxes = _to_numpy(getattr(people.pred_boxes, "tensor", people.pred_boxes))
            keypoints = _match_poses(masks, categories, poses, boxes, min_box_iou)
    return build_frame(rgb, masks, categories, keypoints, target)


def from_coco_results(
    results: Sequence[dict], image: Any, *, image_id: Any = None, target: Target = "largest",
    categories: dict[int, str] | None = None, min_score: float = 0.0, min_keypoint_score: float = 0.0,
    min_box_iou: float = 0.5,
) -> Frame:
    """A frame from a COCO results list (the JSON a detector writes for COCO evaluation), or from
    a COCO annotation file's ``annotations``.

    Entries with a ``segmentation`` (RLE, or polygons in image pixels) are the instances; entries with ``keypoints`` (17 x, y,
    score) and no segmentation are poses, given to the person whose box (``bbox``, x, y, w, h, or
    the mask's) overlaps theirs most. An entry with both is a person with its own pose.
    ``image_id`` keeps only that image's entries; ``min_score`` drops weaker detections;
    ``categories`` maps ``category_id`` to a name (default: 1 is ``person``, as in COCO).
    """
    rgb = as_rgb(image)
    names = categories if categories is not None else {1: "person"}
    entries = [r for r in results if (image_id is None or r.get("image_id") == image_id)
               and float(r.get("score", 1.0)) >= min_score]
    segm = [r for r in entries if "segmentation" in r]
    loose = [r for r in entries if "segmentation" not in r and "keypoints" in r]
    masks = fit_each([_decode_segmentation(r["segmentation"], rgb.shape[:2]) for r in segm], rgb.shape[:2])
    cats = [str(names.get(r.get("category_id"), "object")) for r in segm]
    keypoints = [_coco_pose(r, min_keypoint_score) if "keypoints" in r else None for r in segm]
    if loose:
        boxes = np.array([_xywh_to_xyxy(r["bbox"]) if "bbox" in r else _pose_box(r["keypoints"]) for r in loose])
        matched = _match_poses(masks, cats, [_coco_pose(r, min_keypoint_score) for r in loose], boxes, min_box_iou)
        keypoints = [own if own is not None else other for own, other in zip(keypoints, matched)]
    return build_frame(rgb, masks, cats, keypoints, target)


def _decode_segmentation(segmentation: Any, size: tuple[int, int]) -> np.ndarray:
    """A result's or annotation's mask: an RLE (its own size) or polygons (in the image's pixels)."""
    if isinstance(segmentation, list):
        return decode_polygons([[float(c) for c in polygon] for polygon in segmentation], *size)
    if not isinstance(segmentation, dict) or "size" not in segmentation or "counts" not in segmentation:
        raise ValueError("a COCO segmentation must be an RLE object (size, counts) or a list of polygons")
    h, w = (int(v) for v in segmentation["size"])
    counts = segmentation["counts"]
    return decode_rle({"size": [h, w], "counts": counts.decode("ascii") if isinstance(counts, bytes) else counts}, h, w)


def _coco_pose(entry: dict, min_score: float) -> np.ndarray:
    flat = np.asarray(entry["keypoints"], dtype=np.float64)
    if flat.shape != (51,):
        raise ValueError(f"COCO result keypoints must be 51 numbers (17 x, y, score), got {flat.size}")
    kp = flat.reshape(17, 3)
    return to_coco18(kp[:, :2], kp[:, 2], COCO17_NAMES, min_score)


def from_masks(
    image: Any, masks: Any, *, keypoints: Sequence[Any] | None = None, categories: Sequence[str] | None = None,
    target: Target = "largest", min_keypoint_score: float = 0.0,
) -> Frame:
    """A frame from plain masks (a list of (h, w) arrays or an (N, h, w) array, at any resolution).

    ``keypoints``: one entry per instance, None for none; each (18, 2) COCO-18, or COCO-17 as
    (17, 2) or (17, 3) x, y, score. ``categories`` default to ``person`` for instances with
    keypoints and ``object`` otherwise.
    """
    rgb = as_rgb(image)
    if isinstance(masks, (list, tuple)):
        stacked = fit_each([_to_numpy(m) for m in masks], rgb.shape[:2])
    else:
        stacked = fit_masks(_to_numpy(masks), rgb.shape[:2])
    n = len(stacked)
    given = list(keypoints) if keypoints is not None else [None] * n
    if len(given) != n:
        raise ValueError(f"got keypoints for {len(given)} instances but there are {n} masks")
    poses = [None if kp is None else _any_pose(kp, min_keypoint_score) for kp in given]
    cats = list(categories) if categories is not None else ["person" if p is not None else "object" for p in poses]
    if len(cats) != n:
        raise ValueError(f"got {len(cats)} categories for {n} masks")
    return build_frame(rgb, stacked, cats, poses, target)


def _any_pose(keypoints: Any, min_score: float) -> np.ndarray:
    kp = _to_numpy(keypoints).astype(np.float64)
    if kp.shape == (NUM_KEYPOINTS, 2):
        return kp.astype(np.float32)
    if kp.ndim == 2 and kp.shape[0] == 17 and kp.shape[1] in (2, 3):
        scores = kp[:, 2] if kp.shape[1] == 3 else None
        return to_coco18(kp[:, :2], scores, COCO17_NAMES, min_score)
    raise ValueError(f"keypoints must be (18, 2) COCO-18 or (17, 2)/(17, 3) COCO-17, got shape {kp.shape}")


# ---------------------------------------------------------------- shared steps


def _to_numpy(value: Any) -> np.ndarray:
    """A NumPy array of ``value``; torch tensors (any device) are detached and copied to the host."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def as_rgb(image: Any) -> np.ndarray:
    array = np.ascontiguousarray(_to_numpy(image))
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"the frame image must be (H, W, 3) uint8 RGB, got {array.shape} {array.dtype}")
    return array


def fit_masks(masks: np.ndarray, size: tuple[int, int], *, letterbox: bool = False) -> np.ndarray:
    """(N, H, W) bool masks of an image of ``size`` from (N, h, w) masks (bool, 0/1 or soft).

    Masks at another resolution are resized (bilinear, then > 0.5), with a warning; with
    ``letterbox`` the padding a letterboxed model input adds is cut off first (ultralytics).
    """
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f"masks must have shape (N, H, W), got {masks.shape}")
    if masks.shape[1:] == tuple(size):
        return masks > 0.5 if masks.dtype != np.bool_ else masks
    h, w = size
    warnings.warn(f"masks are {masks.shape[2]}x{masks.shape[1]}, the image is {w}x{h}: masks resized to the image",
                  stacklevel=3)
    if letterbox:
        masks = _unpad(masks, size)
    out = np.empty((len(masks), h, w), bool)
    for k, mask in enumerate(masks):
        out[k] = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) > 0.5
    return out


def fit_each(masks: Sequence[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    """(N, H, W) bool from (h, w) masks that may each have another size (``fit_masks`` on each)."""
    fitted = [fit_masks(np.asarray(m)[None], size)[0] for m in masks]
    return np.stack(fitted) if fitted else np.zeros((0, *size), bool)


def _unpad(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The part of letterboxed masks that shows the image (the image was scaled to fit, centred)."""
    mh, mw = masks.shape[1:]
    gain = min(mh / size[0], mw / size[1])
    pad_y, pad_x = (mh - size[0] * gain) / 2, (mw - size[1] * gain) / 2
    top, left = int(round(pad_y - 0.1)), int(round(pad_x - 0.1))
    bottom, right = int(round(mh - pad_y + 0.1)), int(round(mw - pad_x + 0.1))
    return masks[:, top:bottom, left:right]


def to_coco18(points: Any, scores: Any, names: Sequence[str], min_score: float) -> np.ndarray:
    """(18, 2) float32 COCO-18 from a model's (K, 2) points named ``names`` (K of them).

    A point is missing when its score is at most ``min_score`` (when scores are given) or it is
    not finite; names outside COCO-18 are ignored; the neck, unless named, is the mid-shoulder.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(names) != len(points):
        raise ValueError(
            f"the keypoint model gives {len(points)} points but {len(names)} keypoint names are known; "
            "pass keypoint_names (one name per point, COCO-18 names where they match)"
        )
    present = np.isfinite(points).all(axis=1)
    if scores is not None:
        present &= np.asarray(scores, dtype=np.float64).reshape(-1) > min_score
    out = np.full((NUM_KEYPOINTS, 2), np.nan, dtype=np.float32)
    for name, point, ok in zip(names, points, present):
        if ok and name in INDEX:
            out[INDEX[name]] = point
    if "neck" not in names:
        out[INDEX["neck"]] = (out[INDEX["right_shoulder"]] + out[INDEX["left_shoulder"]]) / 2
    return out


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(A, B) IoU of x0, y0, x1, y1 boxes."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = w * h
    union = _box_area(a)[:, None] + _box_area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _box_area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _match_poses(
    masks: np.ndarray, categories: list[str], poses: list[np.ndarray], boxes: np.ndarray, min_iou: float
) -> list[np.ndarray | None]:
    """Each person instance's pose from another model, by box overlap (None: no pose matched)."""
    people = [k for k, c in enumerate(categories) if c == "person"]
    out: list[np.ndarray | None] = [None] * len(masks)
    if not people or not poses:
        return out
    iou = box_iou(MaskSet(masks[people]).boxes(), boxes)
    for row, col in greedy_match(iou, min_iou):
        out[people[row]] = poses[col]
    return out


def _xywh_to_xyxy(box: Sequence[float]) -> list[float]:
    x, y, w, h = (float(v) for v in box)
    return [x, y, x + w, y + h]


def _pose_box(flat: Sequence[float]) -> list[float]:
    kp = np.asarray(flat, np.float64).reshape(-1, 3)
    kp = kp[kp[:, 2] > 0]
    if not len(kp):
        return [0.0, 0.0, 0.0, 0.0]
    return [kp[:, 0].min(), kp[:, 1].min(), kp[:, 0].max(), kp[:, 1].max()]


def usable_pose(keypoints: np.ndarray | None) -> bool:
    """Whether the pose stage can use these keypoints (its core joints are present)."""
    if keypoints is None:
        return False
    try:
        check_core_keypoints(keypoints)
    except ValueError:
        return False
    return True


def build_frame(
    image: np.ndarray, masks: np.ndarray, categories: list[str], keypoints: list[np.ndarray | None], target: Target
) -> Frame:
    """The frame of these instances, empty masks dropped, ``target`` resolved (module docstring)."""
    kept = [k for k in range(len(masks)) if masks[k].any()]
    targets = _resolve_target(target, masks, categories, keypoints, kept)
    index = {k: i for i, k in enumerate(kept)}
    return Frame(
        image=image,
        masks=masks[kept] if kept else np.zeros((0, *image.shape[:2]), bool),
        target=[index[t] for t in targets],
        keypoints=[keypoints[t] for t in targets],
    )


def _resolve_target(
    target: Target, masks: np.ndarray, categories: list[str], keypoints: list, kept: list[int]
) -> list[int]:
    if target is None:
        return []
    if isinstance(target, str):
        if target not in ("largest", "all"):
            raise ValueError(f"target must be an index, a list of indices, 'largest', 'all' or None, got {target!r}")
        people = [k for k in kept if categories[k] == "person" and usable_pose(keypoints[k])]
        if target == "all":
            return people
        return [max(people, key=lambda k: (int(masks[k].sum()), -k))] if people else []
    targets = [target] if np.isscalar(target) else list(target)
    for t in targets:
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)) or not 0 <= t < len(masks):
            raise ValueError(f"target {t!r} is not an instance index in [0, {len(masks)})")
        if t not in kept:
            raise ValueError(f"target instance {t} has an empty mask")
        if keypoints[t] is None:
            raise ValueError(f"target instance {t} has no keypoints (none given or none matched to it)")
    return [int(t) for t in targets]
