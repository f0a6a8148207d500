"""Textured objects of varied shapes: convex, thin, concave, holed and composite.

A shape is drawn in its own unit frame (x across, y along, about -1..1), placed by a centre, a
size in pixels and a rotation. The texture is printed in the same frame, so it moves with the object.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from interorder_rt.synth.seeding import check_size, pick
from interorder_rt.synth.textures import Material, paint, sample_material

_SHIFT = 4
_ONE = 1 << _SHIFT

_BLACK = Material((0, 0, 0), (0, 0, 0), "solid", 1.0)

KINDS = ("ellipse", "polygon", "blob", "bar", "pole", "bag", "chair", "ring", "lshape", "ushape", "crescent", "table")
KIND_WEIGHTS = (0.09, 0.09, 0.09, 0.1, 0.06, 0.08, 0.1, 0.09, 0.07, 0.08, 0.07, 0.08)


@dataclass(frozen=True)
class ObjectSpec:
    """One object: a shape kind with its parameters, a placement and a material."""

    kind: str
    params: tuple[float, ...]  # shape parameters in the unit frame (meaning depends on kind)
    centre: tuple[float, float]  # pixels
    size: float  # pixels per unit
    angle: float  # radians
    material: Material

    def moved(self, centre: tuple[float, float], angle: float) -> "ObjectSpec":
        """The same object placed at ``centre`` and turned to ``angle``."""
        return ObjectSpec(self.kind, self.params, centre, self.size, angle, self.material)


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _regular(n: int, radii: np.ndarray, phase: float) -> np.ndarray:
    t = phase + np.arange(n) * 2 * np.pi / n
    return np.stack([np.cos(t) * radii, np.sin(t) * radii], axis=1)


class _ShapeDrawer:
    """Draws unit-frame primitives of one object into a mask at its placement."""

    def __init__(self, mask: np.ndarray, spec: ObjectSpec) -> None:
        self.mask, self.spec = mask, spec
        c, s = np.cos(spec.angle), np.sin(spec.angle)
        self.rotation = np.array([[c, -s], [s, c]]) * spec.size
        self.centre = np.asarray(spec.centre, dtype=np.float64)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        return points @ self.rotation.T + self.centre

    def _fixed(self, points: np.ndarray) -> np.ndarray:
        return np.round(self.to_image(points) * _ONE).astype(np.int32)

    def polygon(self, points: np.ndarray, value: int = 1) -> None:
        cv2.fillPoly(self.mask, [self._fixed(points)], value, cv2.LINE_8, _SHIFT)

    def ellipse(self, centre, axes, value: int = 1, arc=(0.0, 360.0), thickness: float = -1) -> None:
        """Ellipse with unit-frame semi-axes; with a thickness (unit frame) an arc band."""
        pixel_axes = tuple(int(round(a * self.spec.size * _ONE)) for a in axes)
        angle = float(np.degrees(self.spec.angle))
        centre_px = tuple(self._fixed(np.asarray(centre, dtype=np.float64)[None])[0].tolist())
        width = -1 if thickness < 0 else max(1, int(round(thickness * self.spec.size)))
        cv2.ellipse(self.mask, centre_px, pixel_axes, angle, arc[0], arc[1], value, width, cv2.LINE_8, _SHIFT)

    def capsule(self, a, b, radius: float) -> None:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        d = b - a
        normal = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9) * radius
        self.polygon(np.stack([a + normal, b + normal, b - normal, a - normal]))
        self.ellipse(a, (radius, radius))
        self.ellipse(b, (radius, radius))


def _draw(drawer: _ShapeDrawer) -> None:
    """Draw the object's shape (parameters of each kind: see _shape_params)."""
    kind, p = drawer.spec.kind, drawer.spec.params
    if kind == "ellipse":
        drawer.ellipse((0, 0), (p[0], p[1]))
    elif kind in ("polygon", "blob"):
        n = int(p[0])
        drawer.polygon(_regular(n, np.asarray(p[2:2 + n]), p[1]))
    elif kind in ("bar", "pole"):
        drawer.capsule((0, -p[0]), (0, p[0]), p[1])
    elif kind == "bag":
        drawer.polygon(_rect(-p[0], -p[1] * 0.2, p[0], p[1]))
        drawer.ellipse((0, -p[1] * 0.2), (p[0] * 0.6, p[1] * 0.75), arc=(180, 360), thickness=p[2])
    elif kind == "chair":
        seat, leg = p[1], p[2]
        drawer.polygon(_rect(-p[0], -leg * 0.5, p[0], leg * 0.5))  # seat
        back_x = p[0] if p[3] > 0 else -p[0]
        drawer.polygon(_rect(back_x - leg, -seat, back_x + leg, 0))  # back rest
        for x in (-p[0], p[0]):
            drawer.polygon(_rect(x - leg, 0, x + leg, seat * 0.9))  # legs
    elif kind == "ring":
        drawer.ellipse((0, 0), (p[0], p[1]), arc=(p[3], p[3] + p[4]), thickness=p[2])
    elif kind == "lshape":
        drawer.polygon(_rect(-p[0], -p[1], -p[0] + p[2], p[1]))
        drawer.polygon(_rect(-p[0], p[1] - p[2], p[0], p[1]))
    elif kind == "ushape":
        drawer.polygon(_rect(-p[0], -p[1], -p[0] + p[2], p[1]))
        drawer.polygon(_rect(p[0] - p[2], -p[1], p[0], p[1]))
        drawer.polygon(_rect(-p[0], p[1] - p[2], p[0], p[1]))
    elif kind == "crescent":
        drawer.ellipse((0, 0), (p[0], p[0]))
        drawer.ellipse((p[1], 0), (p[0] * p[2], p[0] * p[2]), value=0)
    elif kind == "table":
        drawer.polygon(_rect(-p[0], -p[1], p[0], -p[1] + p[2]))
        for x in (-p[0] * 0.85, p[0] * 0.85):
            drawer.polygon(_rect(x - p[2] * 0.5, -p[1], x + p[2] * 0.5, p[1]))
    else:
        raise ValueError(f"unknown object kind {kind!r}; expected one of {KINDS}")


def _shape_params(rng: np.random.Generator, kind: str) -> tuple[float, ...]:
    """Random shape parameters of ``kind``, unit frame:
    ellipse (semi-axes); polygon, blob (vertex count, phase, radii); bar, pole (half length, radius);
    bag (half width, height, handle thickness); chair (half width, back height, leg half width,
    back side); ring (semi-axes, thickness, start and sweep in degrees); lshape, ushape (half
    width, half height, arm thickness); crescent (radius, bite offset, bite radius ratio);
    table (half width, half height, leg and top thickness).
    """
    u = rng.uniform
    if kind == "ellipse":
        return (u(0.4, 1.0), u(0.25, 1.0))
    if kind == "polygon":
        n = int(rng.integers(3, 8))
        return (n, u(0, 2 * np.pi), *u(0.75, 1.0, n))
    if kind == "blob":
        n = 2 * int(rng.integers(3, 7))
        radii = np.where(np.arange(n) % 2 == 0, u(0.75, 1.0, n), u(0.3, 0.65, n))
        return (n, u(0, 2 * np.pi), *radii)
    if kind == "bar":
        return (1.0, u(0.07, 0.16))
    if kind == "pole":
        return (4.0, u(0.05, 0.12))
    if kind == "bag":
        return (u(0.5, 0.9), u(0.5, 0.8), u(0.1, 0.18))
    if kind == "chair":
        return (u(0.45, 0.7), u(0.7, 1.0), u(0.06, 0.11), pick(rng, (-1.0, 1.0)))
    if kind == "ring":
        return (u(0.6, 1.0), u(0.6, 1.0), u(0.12, 0.3), u(0, 360), u(200, 360))
    if kind in ("lshape", "ushape"):
        return (u(0.5, 1.0), u(0.5, 1.0), u(0.15, 0.35))
    if kind == "crescent":
        return (1.0, u(0.35, 0.7), u(0.7, 0.95))
    if kind == "table":
        return (u(0.7, 1.0), u(0.4, 0.7), u(0.1, 0.16))
    raise ValueError(f"unknown object kind {kind!r}; expected one of {KINDS}")


def sample_object_spec(rng: np.random.Generator, centre: tuple[float, float], size: float,
                       kind: str | None = None) -> ObjectSpec:
    """A random object of ``kind`` (random when None) centred at ``centre``, ``size`` pixels per unit."""
    if kind is None:
        kind = pick(rng, KINDS, KIND_WEIGHTS)
    upright = kind in ("bag", "chair", "table", "pole")
    angle = rng.normal(0, 0.15) if upright else rng.uniform(-np.pi, np.pi)
    material = sample_material(rng, (0.12, 0.35), p_solid=0.4)
    return ObjectSpec(kind, _shape_params(rng, kind), (float(centre[0]), float(centre[1])), float(size),
                      float(angle), material)


def render_object(spec: ObjectSpec, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``(rgb (H, W, 3) uint8, mask (H, W) bool)`` of one object; rgb is 0 outside the mask."""
    height, width = check_size(height, width)
    canvas = np.zeros((height, width), dtype=np.uint8)
    drawer = _ShapeDrawer(canvas, spec)
    _draw(drawer)
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    x0, y0, w, h = cv2.boundingRect(canvas)
    if w == 0 or h == 0:
        return rgb, canvas.view(bool)
    inverse = np.linalg.inv(drawer.rotation).astype(np.float32)
    dx = np.arange(x0, x0 + w, dtype=np.float32)[None, :] - np.float32(drawer.centre[0])
    dy = np.arange(y0, y0 + h, dtype=np.float32)[:, None] - np.float32(drawer.centre[1])
    u, v = inverse[0, 0] * dx + inverse[0, 1] * dy, inverse[1, 0] * dx + inverse[1, 1] * dy
    shade = 0.88 - 0.08 * np.clip(v, -1.5, 1.5) + 0.05 * np.clip(u, -1, 1)
    which = canvas[y0:y0 + h, x0:x0 + w].astype(np.intp) ^ 1  # 0 = the object, 1 = black outside it
    rgb[y0:y0 + h, x0:x0 + w] = paint([spec.material, _BLACK], which, u, v, shade)
    return rgb, canvas.view(bool)
