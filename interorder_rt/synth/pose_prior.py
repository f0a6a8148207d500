"""A prior over human poses: a small 3-D skeleton posed by joint angles, turned and projected.

Poses are built in body units (1 = standing height, y down, z toward the camera when the yaw
is 0), from one (abduction, flexion) direction per limb segment, then turned about the vertical
axis (front to side views), projected orthographically, tilted in the image plane, scaled and
placed. Eyes and ears turned away from the camera are missing (NaN), as a detector would report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from interorder_rt.keypoints import INDEX, NUM_KEYPOINTS
from interorder_rt.synth.seeding import pick

ACTIONS = ("stand", "walk", "arms_raised", "arms_crossed", "hands_on_hips", "reach", "sit")

UPPER_ARM, FOREARM, THIGH, SHIN = 0.165, 0.145, 0.245, 0.245  # body units

# Limb segments posed by angles, in the row order of PoseParams.angles:
# (from joint, to joint, side: -1 = the person's right, which faces image left at yaw 0, length).
SEGMENTS = (
    ("right_shoulder", "right_elbow", -1, UPPER_ARM), ("right_elbow", "right_wrist", -1, FOREARM),
    ("left_shoulder", "left_elbow", 1, UPPER_ARM), ("left_elbow", "left_wrist", 1, FOREARM),
    ("right_hip", "right_knee", -1, THIGH), ("right_knee", "right_ankle", -1, SHIN),
    ("left_hip", "left_knee", 1, THIGH), ("left_knee", "left_ankle", 1, SHIN),
)

# Joints fixed to the trunk and head, body units relative to the mid-hip.
_TRUNK = {
    "neck": (0.0, -0.33, 0.0),
    "right_shoulder": (-0.115, -0.31, 0.0), "left_shoulder": (0.115, -0.31, 0.0),
    "right_hip": (-0.085, 0.0, 0.0), "left_hip": (0.085, 0.0, 0.0),
    "nose": (0.0, -0.415, 0.06),
    "right_eye": (-0.03, -0.435, 0.05), "left_eye": (0.03, -0.435, 0.05),
    "right_ear": (-0.068, -0.425, -0.005), "left_ear": (0.068, -0.425, -0.005),
}
# Bones whose length does not change with the pose (trunk and limbs), with that length: the
# least foreshortened of them gives a person's height from 2-D keypoints.
RIGID_BONES = tuple(
    (a, b, float(np.hypot(_TRUNK[a][0] - _TRUNK[b][0], _TRUNK[a][1] - _TRUNK[b][1])))
    for a, b in (("neck", "right_hip"), ("neck", "left_hip"), ("right_shoulder", "left_shoulder"),
                 ("right_hip", "left_hip"))
) + tuple((a, b, length) for a, b, _, length in SEGMENTS)
_FACE = ("nose", "right_eye", "left_eye", "right_ear", "left_ear")
_HEAD_CENTRE = np.array([0.0, -0.425, 0.0])
_HIDDEN_DEPTH = -0.012  # a face point this far behind the head centre (body units) is hidden


@dataclass(frozen=True)
class PoseParams:
    """One pose: body turn, in-plane tilt and a direction per limb segment (all radians)."""

    yaw: float  # 0 faces the camera, +pi/2 faces image right
    roll: float  # in-plane tilt, positive turns clockwise on screen
    angles: tuple[tuple[float, float], ...]  # per SEGMENTS row: (abduction from straight down, flexion forward)

    def blend(self, other: "PoseParams", t: float) -> "PoseParams":
        """Linear interpolation of every angle toward ``other`` (t = 0 is self, 1 is other)."""
        a = np.asarray(self.angles) * (1 - t) + np.asarray(other.angles) * t
        return replace(self, yaw=self.yaw * (1 - t) + other.yaw * t, roll=self.roll * (1 - t) + other.roll * t,
                       angles=tuple(map(tuple, a.tolist())))


def _direction(side: int, abduction: float, flexion: float) -> np.ndarray:
    """Unit 3-D direction: abduction swings outward in the frontal plane, flexion forward."""
    return np.array([side * np.sin(abduction) * np.cos(flexion), np.cos(abduction) * np.cos(flexion), np.sin(flexion)])


def skeleton_3d(params: PoseParams) -> np.ndarray:
    """(18, 3) joint positions in body units before the turn (mid-hip at the origin)."""
    joints = np.zeros((NUM_KEYPOINTS, 3))
    for name, xyz in _TRUNK.items():
        joints[INDEX[name]] = xyz
    for (start, end, side, length), (abduction, flexion) in zip(SEGMENTS, params.angles):
        joints[INDEX[end]] = joints[INDEX[start]] + length * _direction(side, abduction, flexion)
    return joints


def keypoints_from_params(params: PoseParams, body_height: float, hip_xy: tuple[float, float]) -> np.ndarray:
    """(18, 2) float32 image keypoints of a pose ``body_height`` pixels tall with its mid-hip at ``hip_xy``.

    Coordinates may fall outside any image; hidden eyes and ears are NaN.
    """
    joints = skeleton_3d(params)
    c, s = np.cos(params.yaw), np.sin(params.yaw)
    x = joints[:, 0] * c + joints[:, 2] * s
    depth = -(joints[:, 0] - _HEAD_CENTRE[0]) * s + (joints[:, 2] - _HEAD_CENTRE[2]) * c
    cr, sr = np.cos(params.roll), np.sin(params.roll)
    xy = np.stack([x * cr - joints[:, 1] * sr, x * sr + joints[:, 1] * cr], axis=1)
    kp = (xy * body_height + np.asarray(hip_xy, dtype=np.float64)).astype(np.float32)
    for name in _FACE:
        if depth[INDEX[name]] < _HIDDEN_DEPTH:
            kp[INDEX[name]] = np.nan
    return kp


def _angle(rng: np.random.Generator, low: float, high: float) -> float:
    """A uniform angle in radians between ``low`` and ``high`` degrees."""
    return float(np.radians(rng.uniform(low, high)))


def walk_angles(phase: float, stride: float = 1.0) -> tuple[tuple[float, float], ...]:
    """Segment angles of a walking cycle at ``phase`` (radians); legs and arms swing in counter-phase."""
    swing = np.radians(26.0) * stride
    out = []
    for side_phase in (phase, phase + np.pi):  # right limbs, then left limbs
        arm = -0.8 * swing * np.sin(side_phase)
        out += [(np.radians(6), arm), (np.radians(6), arm + np.radians(18))]
    legs = []
    for side_phase in (phase, phase + np.pi):
        thigh = swing * np.sin(side_phase)
        knee = np.radians(6) + np.radians(38) * stride * max(0.0, np.sin(side_phase - 1.9))
        legs += [(np.radians(2), thigh), (np.radians(2), thigh - knee)]
    return tuple(out + legs)


def _arm(rng: np.random.Generator, kind: str) -> list[tuple[float, float]]:
    """(upper arm, forearm) angles of one arm doing ``kind``."""
    if kind == "down":
        upper = (_angle(rng, 3, 22), _angle(rng, -12, 18))
        return [upper, (upper[0] + _angle(rng, -5, 12), upper[1] + _angle(rng, 0, 35))]
    if kind == "raised":
        upper = (_angle(rng, 115, 175), _angle(rng, -10, 25))
        return [upper, (upper[0] + _angle(rng, -15, 25), upper[1] + _angle(rng, -5, 30))]
    if kind == "side":
        upper = (_angle(rng, 70, 105), _angle(rng, -15, 20))
        return [upper, (upper[0] + _angle(rng, -10, 70), upper[1] + _angle(rng, -10, 30))]
    if kind == "crossed":
        return [(_angle(rng, 0, 12), _angle(rng, 8, 25)), (_angle(rng, -118, -95), _angle(rng, 20, 45))]
    if kind == "hip":
        return [(_angle(rng, 35, 52), _angle(rng, -28, -10)), (_angle(rng, -70, -48), _angle(rng, -30, -8))]
    if kind == "forward":
        upper = (_angle(rng, 5, 55), _angle(rng, 55, 100))
        return [upper, (upper[0] + _angle(rng, -10, 10), upper[1] + _angle(rng, -5, 25))]
    if kind == "rest":  # sitting: hands on the lap
        upper = (_angle(rng, 3, 15), _angle(rng, 10, 30))
        return [upper, (_angle(rng, -20, 10), upper[1] + _angle(rng, 35, 65))]
    raise ValueError(f"unknown arm kind {kind!r}")


def _leg(rng: np.random.Generator, kind: str) -> list[tuple[float, float]]:
    """(thigh, shin) angles of one leg doing ``kind``."""
    if kind == "stand":
        thigh = (_angle(rng, -2, 14), _angle(rng, -8, 10))
        return [thigh, (thigh[0] + _angle(rng, -4, 3), thigh[1] - _angle(rng, 0, 15))]
    if kind == "sit":
        thigh = (_angle(rng, 0, 18), _angle(rng, 65, 95))
        return [thigh, (thigh[0] + _angle(rng, -8, 4), thigh[1] - _angle(rng, 65, 105))]
    raise ValueError(f"unknown leg kind {kind!r}")


def _view(rng: np.random.Generator) -> float:
    """Body turn: mostly frontal, often side-on, sometimes three-quarter; either direction."""
    u = rng.random()
    sign = 1.0 if rng.random() < 0.5 else -1.0
    if u < 0.45:
        return _angle(rng, -30, 30)
    if u < 0.75:
        return sign * _angle(rng, 65, 100)
    return sign * _angle(rng, 30, 65)


def sample_pose_params(rng: np.random.Generator, action: str | None = None) -> PoseParams:
    """A random pose doing ``action`` (one of ACTIONS; random when None)."""
    if action is None:
        action = pick(rng, ACTIONS, (0.22, 0.22, 0.14, 0.1, 0.08, 0.12, 0.12))
    roll = _angle(rng, -7, 7)
    if action == "walk":
        angles = walk_angles(float(rng.uniform(0, 2 * np.pi)), float(rng.uniform(0.6, 1.2)))
        return PoseParams(_view(rng), roll, angles)
    arms = {
        "stand": ("down", "down"),
        "arms_raised": ("raised", "raised" if rng.random() < 0.55 else pick(rng, ("down", "side"))),
        "arms_crossed": ("crossed", "crossed"),
        "hands_on_hips": ("hip", "hip" if rng.random() < 0.7 else "down"),
        "reach": ("forward" if rng.random() < 0.5 else "side", pick(rng, ("down", "side", "forward"))),
        "sit": ("rest", "rest" if rng.random() < 0.7 else "forward"),
    }
    if action not in arms:
        raise ValueError(f"unknown action {action!r}; expected one of {ACTIONS}")
    right, left = arms[action]
    if rng.random() < 0.5:
        right, left = left, right
    legs = "sit" if action == "sit" else "stand"
    angles = _arm(rng, right) + _arm(rng, left) + _leg(rng, legs) + _leg(rng, legs)
    return PoseParams(_view(rng), roll, tuple(angles))


def sample_pose(rng: np.random.Generator, height: int, width: int, *, body_height: float | None = None) -> np.ndarray:
    """(18, 2) float32 keypoints of a random pose placed in a ``height`` x ``width`` image.

    The person is ``body_height`` pixels tall (default: 35-85 % of the image height) and mostly
    inside the image; limbs may leave it, so coordinates may fall outside the image
    (``keypoints_in_image`` blanks those). Hidden eyes and ears are NaN.
    """
    params = sample_pose_params(rng)
    body = float(rng.uniform(0.35, 0.85)) * height if body_height is None else float(body_height)
    hip = (float(rng.uniform(0.12, 0.88)) * width, float(rng.uniform(0.5 * body, height - 0.3 * body)))
    return keypoints_from_params(params, body, hip)


def keypoints_in_image(keypoints: np.ndarray, height: int, width: int) -> np.ndarray:
    """Copy of ``keypoints`` with the points outside ``[0, width) x [0, height)`` set to NaN."""
    kp = np.array(keypoints, dtype=np.float32)
    outside = ~((kp[:, 0] >= 0) & (kp[:, 0] < width) & (kp[:, 1] >= 0) & (kp[:, 1] < height))
    kp[outside] = np.nan
    return kp
