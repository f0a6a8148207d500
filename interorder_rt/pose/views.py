"""Which way a pose faces, told from its keypoints, and the depth of each part layer in it.

- ``front``: the right shoulder is on the image's left (the person faces the camera);
- ``back``: the right shoulder is on the image's right;
- ``left`` / ``right``: the shoulders nearly overlap (less than ``SIDE_SPAN`` of the body scale
  apart, or one is missing) and the face points to the image's left / right. Facing right, a
  person shows the camera their right side: the left limbs are the far ones.

Depth (larger is nearer) follows the view: facing the camera the limbs are in front of the torso
and the arms in front of the legs; seen from the back the arms are behind the torso (hands held
in front of the body are hidden by it); from the side the far limbs are behind the torso and the
near ones in front of everything.
"""

from __future__ import annotations

import numpy as np

from interorder_rt.keypoints import INDEX, visible
from interorder_rt.pose.parts import PARTS

SIDE_SPAN = 0.3  # shoulder span below which a pose is a side view, as a share of the body scale
VIEWS = ("front", "back", "left", "right")
SIDE_VIEWS = ("left", "right")

_KIND = {"torso": "torso", "head": "head"}
for _part in PARTS[2:]:
    _KIND[_part.name] = _part.name.split("_", 1)[1]
_BASE = {"torso": 0.0, "thigh": 1.0, "shin": 2.0, "head": 3.0, "upper_arm": 4.0, "forearm": 5.0}
_BACK = {"upper_arm": -2.0, "forearm": -1.0, "torso": 0.0, "thigh": 1.0, "shin": 2.0, "head": 3.0}


def _depths(table: dict[str, float], far_side: str | None = None) -> np.ndarray:
    out = np.empty(len(PARTS), np.float32)
    for p, part in enumerate(PARTS):
        depth = table[_KIND[part.name]]
        if far_side is not None and part.name.startswith(far_side):
            depth -= 10.0  # behind the torso
        elif far_side is not None and _KIND[part.name] not in ("torso", "head"):
            depth += 10.0  # the near limbs in front of the head too
        out[p] = depth
    return out


FRONT_DEPTH = _depths(_BASE)
DEPTH = {"front": FRONT_DEPTH, "back": _depths(_BACK), "left": _depths(_BASE, "right"), "right": _depths(_BASE, "left")}

_FACE = [INDEX[k] for k in ("nose", "right_eye", "left_eye")]


def shows_face(keypoints: np.ndarray) -> bool:
    """Whether the nose or an eye is present."""
    return bool(visible(keypoints)[_FACE].any())


def _facing(keypoints: np.ndarray) -> str:
    """``left`` or ``right``: where the face points, from the nose (or ears, eyes) against the neck."""
    present = visible(keypoints)
    neck = keypoints[INDEX["neck"]]
    for names in (("nose",), ("right_eye", "left_eye"), ("right_ear", "left_ear")):
        idx = [INDEX[n] for n in names if present[INDEX[n]]]
        if idx:
            return "right" if keypoints[idx, 0].mean() >= neck[0] else "left"
    return "right"


def view_of(keypoints: np.ndarray, scale: float) -> str:
    """The view of a pose (module doc)."""
    present = visible(keypoints)
    rs, ls = INDEX["right_shoulder"], INDEX["left_shoulder"]
    if present[rs] and present[ls]:
        span = float(keypoints[ls, 0] - keypoints[rs, 0])
        if abs(span) >= SIDE_SPAN * scale:
            return "front" if span > 0 else "back"
    return _facing(keypoints)
