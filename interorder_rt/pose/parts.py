"""Body parts of the part-wise warp: which keypoints anchor each part and which bones draw it.

Each part moves by one affine transform. The torso is anchored by the neck, shoulders and hips
(least-squares affine), the head by the neck, turned by the ear or eye line (a head neither
shears nor stretches), and each limb segment by its bone (a three-point frame). The
``segments`` of a part are its skeleton: distance to them decides which part a pixel belongs
to and how much each part's transform counts there.
"""

from __future__ import annotations

from dataclasses import dataclass

from interorder_rt.keypoints import INDEX, MIRROR

AFFINE, TURN, BONE = "affine", "turn", "bone"


@dataclass(frozen=True)
class Part:
    name: str
    fit: str  # AFFINE (least squares), TURN (rotation about the neck, body scale) or BONE (three-point frame)
    anchors: tuple[int, ...]  # keypoints whose correspondence defines the transform
    segments: tuple[tuple[int, int], ...]  # skeleton lines, drawn where both ends are present
    parent: str  # name of the part it hangs from ("" for the torso)


def _k(*names: str) -> tuple[int, ...]:
    return tuple(INDEX[n] for n in names)


def _bone(name: str, a: str, b: str, parent: str) -> Part:
    return Part(name, BONE, _k(a, b), (_k(a, b),), parent)


_TORSO_LINES = (
    ("right_shoulder", "left_shoulder"), ("right_hip", "left_hip"), ("neck", "right_hip"), ("neck", "left_hip"),
    ("right_shoulder", "right_hip"), ("left_shoulder", "left_hip"),
    ("neck", "right_shoulder"), ("neck", "left_shoulder"),
)
_HEAD_LINES = (
    ("neck", "nose"), ("nose", "right_eye"), ("nose", "left_eye"), ("right_eye", "right_ear"), ("left_eye", "left_ear"),
    ("neck", "right_ear"), ("neck", "left_ear"), ("neck", "right_eye"), ("neck", "left_eye"),
)

PARTS = (
    Part("torso", AFFINE, _k("neck", "right_shoulder", "left_shoulder", "right_hip", "left_hip"),
         tuple(_k(a, b) for a, b in _TORSO_LINES), ""),
    Part("head", TURN, _k("neck", "right_ear", "left_ear", "right_eye", "left_eye"),
         tuple(_k(a, b) for a, b in _HEAD_LINES), "torso"),
    _bone("right_upper_arm", "right_shoulder", "right_elbow", "torso"),
    _bone("right_forearm", "right_elbow", "right_wrist", "right_upper_arm"),
    _bone("left_upper_arm", "left_shoulder", "left_elbow", "torso"),
    _bone("left_forearm", "left_elbow", "left_wrist", "left_upper_arm"),
    _bone("right_thigh", "right_hip", "right_knee", "torso"),
    _bone("right_shin", "right_knee", "right_ankle", "right_thigh"),
    _bone("left_thigh", "left_hip", "left_knee", "torso"),
    _bone("left_shin", "left_knee", "left_ankle", "left_thigh"),
)
TORSO, HEAD = 0, 1


def _mirror_part(index: int) -> int:
    part = PARTS[index]
    if part.fit != BONE:
        return index
    mirrored = tuple(MIRROR[k] for k in part.anchors)
    return next(i for i, other in enumerate(PARTS) if other.anchors == mirrored)


# MIRROR_PART[p]: the same part on the other side of the body (itself for the torso and head).
MIRROR_PART = tuple(_mirror_part(i) for i in range(len(PARTS)))


def _adjacency() -> tuple[tuple[bool, ...], ...]:
    return tuple(tuple(p is q or p.parent == q.name or q.parent == p.name for q in PARTS) for p in PARTS)


# ADJACENT[p][q]: p and q are the same part or joined at a joint (only those blend together).
ADJACENT = _adjacency()
