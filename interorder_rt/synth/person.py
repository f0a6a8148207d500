"""Render a person (an Identity in a pose given by 18 keypoints) with OpenCV primitives.

Body parts are drawn back to front into a label map (one label per part): tapered capsules for
limbs, a convex hull for the torso, ellipses for head and hair. Every part carries its own
texture frame (origin at its first joint, axis along the bone), so clothing patterns follow the
body: re-posing an identity moves its stripes with its limbs. Colours are then computed for all
pixels at once from the label map. Rendering is a pure function of (identity, keypoints, size).

Geometry uses Python complex numbers as 2-D points (x + iy): a few dozen points per person, for
which NumPy's per-call overhead would dominate the drawing time.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from interorder_rt.keypoints import INDEX, validate_keypoints, visible
from interorder_rt.synth.identity import Identity
from interorder_rt.synth.pose_prior import FOREARM, RIGID_BONES, SHIN, THIGH, UPPER_ARM
from interorder_rt.synth.seeding import check_size
from interorder_rt.synth.textures import Material, paint

_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT

_SKIN, _HAIR, _UPPER, _LOWER, _SHOES, _EYES = range(6)


def body_height(keypoints: np.ndarray) -> float:
    """Height in pixels of the person the keypoints belong to (0 when no rigid bone is present).

    Each bone of known length gives a lower bound (bones only shorten in projection); the best wins.
    """
    present = visible(keypoints)
    best = 0.0
    for a, b, length in RIGID_BONES:
        ia, ib = INDEX[a], INDEX[b]
        if present[ia] and present[ib]:
            best = max(best, float(np.hypot(*(keypoints[ia] - keypoints[ib]))) / length)
    return best


def _unit(z: complex, fallback: complex = 1j) -> complex:
    n = abs(z)
    return z / n if n > 1e-6 else fallback


def _fixed(z: complex) -> tuple[int, int]:
    return round(z.real * _ONE), round(z.imag * _ONE)


class _PartCanvas:
    """A label map plus, per label, the texture frame and material of the part drawn with it."""

    def __init__(self, height: int, width: int) -> None:
        self.labels = np.zeros((height, width), dtype=np.uint8)
        # per label: origin x, origin y, axis x, axis y, half width, texture offset along, material
        self.frames: list[tuple[float, float, float, float, float, float, int]] = [(0, 0, 0, 1, 1, 0, 0)]

    def _new_label(self, material: int, origin: complex, axis: complex, half_width: float, v0: float) -> int:
        if len(self.frames) >= 255:
            raise ValueError("too many body parts for one label map")
        self.frames.append((origin.real, origin.imag, axis.real, axis.imag, max(half_width, 0.5), v0, material))
        return len(self.frames) - 1

    def capsule(self, material: int, a: complex, b: complex, ra: float, rb: float, v0: float = 0.0) -> None:
        """A limb segment a->b tapering from radius ``ra`` to ``rb``, with round ends."""
        axis = _unit(b - a)
        normal = axis * -1j
        label = self._new_label(material, a, axis, max(ra, rb), v0)
        quad = np.array([_fixed(a + normal * ra), _fixed(b + normal * rb), _fixed(b - normal * rb),
                         _fixed(a - normal * ra)], dtype=np.int32)
        cv2.fillConvexPoly(self.labels, quad, label, cv2.LINE_8, _SHIFT)
        cv2.circle(self.labels, _fixed(a), round(ra * _ONE), label, -1, cv2.LINE_8, _SHIFT)
        cv2.circle(self.labels, _fixed(b), round(rb * _ONE), label, -1, cv2.LINE_8, _SHIFT)

    def ellipse(self, material: int, centre: complex, axis: complex, across: float, along: float) -> None:
        """An ellipse with semi-axes ``across`` and ``along``, the latter following the unit ``axis``."""
        label = self._new_label(material, centre, axis, across, 0.0)
        angle = math.degrees(math.atan2(axis.imag, axis.real))
        axes = (round(along * _ONE), round(across * _ONE))
        cv2.ellipse(self.labels, _fixed(centre), axes, angle, 0, 360, label, -1, cv2.LINE_8, _SHIFT)

    def hull(self, material: int, points: list[complex], origin: complex, axis: complex, half_width: float) -> None:
        """The convex hull of ``points``."""
        label = self._new_label(material, origin, axis, half_width, 0.0)
        hull = cv2.convexHull(np.array([_fixed(p) for p in points], dtype=np.int32))
        cv2.fillConvexPoly(self.labels, hull, label, cv2.LINE_8, _SHIFT)


class _Body:
    """Keypoints (complex, None when missing) and body measures shared by the drawing steps."""

    def __init__(self, identity: Identity, keypoints: np.ndarray, scale: float) -> None:
        present = visible(keypoints).tolist()
        self.points = [complex(x, y) if ok else None for (x, y), ok in zip(keypoints.tolist(), present)]
        self.identity = identity
        self.s = scale
        self.w = scale * identity.build  # widths scale with build
        neck, hips = self.get("neck"), self.mid("right_hip", "left_hip")
        self.down = _unit(hips - neck) if neck is not None and hips is not None else 1j
        self.across = self.down * -1j  # image right for an upright person
        nose = self.get("nose")
        if nose is None or neck is None:
            self.facing = 0.0
        else:  # -1 faces image left, 1 faces image right
            offset = (nose - neck) * self.across.conjugate()
            self.facing = min(max(offset.real / (0.06 * scale), -1.0), 1.0)

    def get(self, name: str) -> complex | None:
        return self.points[INDEX[name]]

    def mid(self, a: str, b: str) -> complex | None:
        pa, pb = self.get(a), self.get(b)
        if pa is None or pb is None:
            return pa if pb is None else pb
        return (pa + pb) / 2

    def offset_across(self, z: complex) -> float:
        """Signed distance of the vector ``z`` along the body's across direction."""
        return (z * self.across.conjugate()).real


def _draw_arm(canvas: _PartCanvas, body: _Body, side: str) -> None:
    shoulder, elbow, wrist = (body.get(f"{side}_{j}") for j in ("shoulder", "elbow", "wrist"))
    w, sleeves = body.w, body.identity.sleeves
    if shoulder is not None and elbow is not None:
        canvas.capsule(_UPPER if sleeves == "long" else _SKIN, shoulder, elbow, 0.038 * w, 0.031 * w)
        if sleeves == "short":
            canvas.capsule(_UPPER, shoulder, shoulder + 0.55 * (elbow - shoulder), 0.044 * w, 0.04 * w)
    if elbow is not None and wrist is not None:
        canvas.capsule(_UPPER if sleeves == "long" else _SKIN, elbow, wrist, 0.031 * w, 0.025 * w, v0=UPPER_ARM)
        hand = wrist + _unit(wrist - elbow) * 0.03 * body.s
        canvas.capsule(_SKIN, wrist, hand, 0.027 * w, 0.03 * w, v0=UPPER_ARM + FOREARM)


def _draw_leg(canvas: _PartCanvas, body: _Body, side: str) -> None:
    hip, knee, ankle = (body.get(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
    w, legwear = body.w, body.identity.legwear
    if hip is not None and knee is not None:
        canvas.capsule(_SKIN if legwear == "skirt" else _LOWER, hip, knee, 0.058 * w, 0.043 * w)
    if knee is not None and ankle is not None:
        canvas.capsule(_LOWER if legwear == "trousers" else _SKIN, knee, ankle, 0.042 * w, 0.03 * w, v0=THIGH)
        toe = ankle + (body.down * 0.025 + body.across * body.facing * 0.07) * body.s
        canvas.capsule(_SHOES, ankle, toe, 0.03 * w, 0.026 * w, v0=THIGH + SHIN)


def _draw_torso(canvas: _PartCanvas, body: _Body) -> None:
    neck, hips = body.get("neck"), body.mid("right_hip", "left_hip")
    if neck is None:
        return
    w, down, across = body.w, body.down, body.across
    depth = 0.07 * w  # half thickness of the trunk seen side-on
    shoulders = [p for p in (body.get("right_shoulder"), body.get("left_shoulder")) if p is not None]
    hip_points = [p for p in (body.get("right_hip"), body.get("left_hip")) if p is not None]
    points = shoulders + hip_points + [neck + across * depth, neck - across * depth]
    if hips is not None:
        points += [hips + across * depth * 0.9, hips - across * depth * 0.9]
    spread = [body.offset_across(p - neck) for p in points]
    canvas.hull(_UPPER, points, neck, down, max((max(spread) - min(spread)) / 2, depth))
    for shoulder in shoulders:
        canvas.capsule(_UPPER, shoulder, shoulder + down * 0.03 * body.s, 0.045 * w, 0.045 * w)
    if hips is None:
        return
    waist = neck + 0.78 * (hips - neck)
    half = max(max(abs(body.offset_across(p - hips)) for p in hip_points) + 0.05 * w, depth)
    pelvis = [waist + across * half, waist - across * half, hips + across * half, hips - across * half,
              hips + down * 0.05 * w]
    if body.identity.legwear == "skirt":
        hem = hips + down * 0.2 * body.s
        pelvis += [hem + across * half * 1.6, hem - across * half * 1.6]
    canvas.hull(_LOWER, pelvis, neck, down, half)


def _draw_head(canvas: _PartCanvas, body: _Body) -> None:
    neck = body.get("neck")
    if neck is None:
        return
    s, down, across = body.s, body.down, body.across
    centre = neck - down * 0.095 * s
    canvas.capsule(_SKIN, neck + down * 0.02 * s, centre, 0.03 * body.w, 0.03 * body.w)
    if body.identity.hair_style != "bald":  # drawn behind the face: shows on top and at the back
        hair_centre = centre - (down * 0.012 + across * body.facing * 0.012) * s
        canvas.ellipse(_HAIR, hair_centre, down, 0.066 * s, 0.072 * s)
    canvas.ellipse(_SKIN, centre + across * body.facing * 0.008 * s, down, 0.058 * s, 0.07 * s)
    if s >= 90:
        for eye in (body.get("right_eye"), body.get("left_eye")):
            if eye is not None:
                canvas.ellipse(_EYES, eye, down, 0.008 * s, 0.006 * s)


def _draw_long_hair(canvas: _PartCanvas, body: _Body) -> None:
    neck = body.get("neck")
    if neck is None or body.identity.hair_style != "long":
        return
    s = body.s
    top = neck - body.down * 0.1 * s
    bottom = neck + (body.down * 0.07 - body.across * body.facing * 0.04) * s
    canvas.capsule(_HAIR, top, bottom, 0.068 * s, 0.06 * s)


def _draw_parts(canvas: _PartCanvas, body: _Body) -> None:
    """All parts, back to front. Side-on, the far arm and leg go behind the trunk."""
    far = "left" if body.facing > 0.35 else "right" if body.facing < -0.35 else None
    _draw_long_hair(canvas, body)
    if far is None:
        _draw_leg(canvas, body, "right")
        _draw_leg(canvas, body, "left")
        _draw_torso(canvas, body)
        _draw_arm(canvas, body, "right")
        _draw_arm(canvas, body, "left")
    else:
        near = "right" if far == "left" else "left"
        _draw_arm(canvas, body, far)
        _draw_leg(canvas, body, far)
        _draw_leg(canvas, body, near)
        _draw_torso(canvas, body)
        _draw_arm(canvas, body, near)
    _draw_head(canvas, body)


def _plain(colour) -> Material:
    return Material(colour, colour, "solid", 1.0)


_NOTHING = 6  # material index of label 0 (no part): black, so the box outside the body stays 0


def _materials(identity: Identity) -> list[Material]:
    """Materials indexed by _SKIN, _HAIR, _UPPER, _LOWER, _SHOES, _EYES, then _NOTHING."""
    return [_plain(identity.skin), _plain(identity.hair), identity.upper, identity.lower,
            _plain(identity.shoes), _plain((30, 24, 22)), _plain((0, 0, 0))]


def _colour_parts(canvas: _PartCanvas, identity: Identity, scale: float, rgb: np.ndarray) -> None:
    """Fill ``rgb`` inside the label map from each part's texture frame and material.

    Works on the dense box of the drawing; label 0 (outside the body) paints black.
    """
    x0, y0, w, h = cv2.boundingRect(canvas.labels)
    if w == 0 or h == 0:
        return
    labels = canvas.labels[y0:y0 + h, x0:x0 + w]
    frames = np.asarray(canvas.frames, dtype=np.float32)
    frames[0, 6] = _NOTHING
    ox, oy, ax, ay, half_width, v0 = (np.take(frames[:, c], labels) for c in range(6))
    dx = np.arange(x0, x0 + w, dtype=np.float32)[None, :] - ox
    dy = np.arange(y0, y0 + h, dtype=np.float32)[:, None] - oy
    along = dx * ax + dy * ay
    across = dx * ay - dy * ax
    side = np.clip(across / half_width, -1, 1)
    shade = 1.0 - 0.2 * side * side + 0.05 * side  # rounded limbs, light from the right
    inv = np.float32(1.0 / scale)
    which = np.take(frames[:, 6].astype(np.intp), labels)
    rgb[y0:y0 + h, x0:x0 + w] = paint(_materials(identity), which, across * inv, along * inv + v0, shade)


def render_person(identity: Identity, keypoints: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Render ``identity`` in the pose ``keypoints`` on a ``height`` x ``width`` canvas.

    Returns ``(rgb (H, W, 3) uint8, mask (H, W) bool)``; rgb is 0 outside the mask. Parts whose
    keypoints are NaN are left out; coordinates may lie outside the canvas. Deterministic.
    """
    if not isinstance(identity, Identity):
        raise TypeError(f"identity must be an Identity, got {type(identity).__name__}")
    kp = validate_keypoints(keypoints)
    height, width = check_size(height, width)
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    canvas = _PartCanvas(height, width)
    scale = body_height(kp)
    if scale > 0:
        _draw_parts(canvas, _Body(identity, kp, scale))
        _colour_parts(canvas, identity, scale, rgb)
    return rgb, canvas.labels > 0
