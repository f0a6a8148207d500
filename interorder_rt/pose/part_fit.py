"""Per-part backward transforms between a target pose and a source pose.

For each body part drawn in the target pose, find the affine map from target pixels to the
source pixels that show the same part. Missing keypoints degrade gracefully: a limb missing in
the source reads its mirror limb (reflected across the bone); a torso with too few shared or
too collinear anchors falls back from affine to similarity to a turn about the neck; a bone of
zero length takes the torso's linear part pinned at its first joint; a part that cannot be
placed at all is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interorder_rt.keypoints import INDEX, visible
from interorder_rt.pose.parts import BONE, MIRROR_PART, PARTS, TURN, TORSO
from interorder_rt.pose.skeleton import body_scale, spine
from interorder_rt.pose.transforms import anchored, bone_frame, fit_affine, fit_frames, fit_similarity

_NECK = INDEX["neck"]
_ROLL_PAIRS = tuple((INDEX[f"right_{k}"], INDEX[f"left_{k}"]) for k in ("ear", "eye"))
_MIN_ROLL_SPAN = 0.1  # of body scale: a shorter ear/eye line is too foreshortened to measure roll


@dataclass(frozen=True)
class PartTransform:
    part: int  # the target part this transform places
    source_part: int  # the source part it reads (the mirror part when its own is missing)
    matrix: np.ndarray  # (2, 3) float64, target pixel -> source pixel


def _drawable(part: int, present: np.ndarray) -> bool:
    return any(present[a] and present[b] for a, b in PARTS[part].segments)


def _angle(v: np.ndarray) -> float:
    return float(np.arctan2(v[1], v[0]))


def _turn_about_neck(target: np.ndarray, source: np.ndarray, turn: float, scales: tuple[float, float]) -> np.ndarray:
    """Rotation by ``turn`` and the body's change of scale, pinning the neck."""
    linear = scales[1] / scales[0] * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    return anchored(linear, target[_NECK].astype(np.float64), source[_NECK].astype(np.float64))


def _spine_turn(target: np.ndarray, source: np.ndarray) -> float:
    return _angle(spine(source)) - _angle(spine(target))


def _fit_torso(target: np.ndarray, source: np.ndarray, shared: np.ndarray, scales: tuple[float, float]) -> np.ndarray:
    anchors = [k for k in PARTS[TORSO].anchors if shared[k]]
    t, s = target[anchors].astype(np.float64), source[anchors].astype(np.float64)
    matrix = fit_affine(t, s)
    if matrix is None:
        matrix = fit_similarity(t, s)
    if matrix is None:
        matrix = _turn_about_neck(target, source, _spine_turn(target, source), scales)
    return matrix


def _head_turn(target: np.ndarray, source: np.ndarray, shared: np.ndarray, scales: tuple[float, float]) -> float:
    """Rotation angle target -> source of the head: from the ear or eye line when both poses show it
    wide enough to measure, else the spine's."""
    for a, b in _ROLL_PAIRS:
        if shared[a] and shared[b]:
            t_line, s_line = target[b] - target[a], source[b] - source[a]
            if np.hypot(*t_line) >= _MIN_ROLL_SPAN * scales[0] and np.hypot(*s_line) >= _MIN_ROLL_SPAN * scales[1]:
                return _angle(s_line) - _angle(t_line)
    return _spine_turn(target, source)


def _fit_head(target: np.ndarray, source: np.ndarray, shared: np.ndarray, scales: tuple[float, float]) -> np.ndarray:
    """The head turns about the neck and scales with the body; it does not shear or stretch.

    Face keypoints move with yaw and pitch far more than the head does in the image, so they set
    only the head's roll (``_head_turn``), never its size or position.
    """
    return _turn_about_neck(target, source, _head_turn(target, source, shared, scales), scales)


def _fit_bone(
    part: int, target: np.ndarray, source: np.ndarray, s_present: np.ndarray, scales: tuple[float, float],
    torso_linear: np.ndarray,
) -> PartTransform | None:
    source_part = next((q for q in (part, MIRROR_PART[part]) if all(s_present[k] for k in PARTS[q].anchors)), None)
    if source_part is None:
        return None
    ta, tb = target[list(PARTS[part].anchors)].astype(np.float64)
    sa, sb = source[list(PARTS[source_part].anchors)].astype(np.float64)
    t_frame = bone_frame(ta, tb, scales[0])
    s_frame = bone_frame(sa, sb, scales[1], flip=source_part != part)
    if t_frame is None or s_frame is None:
        matrix = anchored(torso_linear, ta, sa)
    else:
        matrix = fit_frames(t_frame, s_frame)
    return PartTransform(part, source_part, matrix)


def fit_part_transforms(target: np.ndarray, source: np.ndarray) -> list[PartTransform]:
    """Transforms for every part placeable in ``target`` (18, 2) from ``source`` (18, 2).

    Both poses must hold the neck, a shoulder and a hip (``protocol.check_core_keypoints``), so the
    torso is always placed.
    """
    t_present, s_present = visible(target), visible(source)
    shared = t_present & s_present
    scales = (body_scale(target), body_scale(source))
    torso = _fit_torso(target, source, shared, scales)
    out = [PartTransform(TORSO, TORSO, torso)]
    for p, part in enumerate(PARTS):
        if p == TORSO or not _drawable(p, t_present):
            continue
        if part.fit == TURN:
            if _drawable(p, s_present):
                out.append(PartTransform(p, p, _fit_head(target, source, shared, scales)))
        elif part.fit == BONE:
            fitted = _fit_bone(p, target, source, s_present, scales, torso[:, :2])
            if fitted is not None:
                out.append(fitted)
    return out
