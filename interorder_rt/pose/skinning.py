"""Skinning of the layered mesh: per-part forward transforms and per-copy blend weights.

Every transform is a (2, 3) float64 matrix mapping *source* pixels to *target* pixels.

- Torso: least-squares affine of the neck, shoulders and hips. When they are (near) collinear
  on one side, or either side shows its shoulders closer than ``SIDE_SPAN`` of the spine (a side
  view, whose shoulders an affine fit would stretch across a whole torso even with the hips
  apart), the torso maps along the spine as the spines and across from its
  width to the target's: the shoulder span of a front target wider than the source torso, or
  the trunk's side-on thickness for a side-view target of a front source; otherwise a
  similarity; a turn about the neck by the spine's turn as the last resort.
- Head: one rigid similarity, never split: it turns about the neck by the change of the ear or
  eye line (else the spine's) and scales with the body. Face keypoints move with yaw and pitch far
  more than the head does, so they set only its roll.
- Limb segment: the affine taking the source bone's frame (its joints and a point one body scale
  across) to the target's, so a limb stretches along its bone and keeps its width in body units;
  at most ``MAX_STRETCH`` times the body's change of scale (a bone pointing at the camera in the
  source is short: stretching it fully would spray the pixels around it along the target bone).
  A segment the target lacks keeps its pose relative to its parent (the parent's transform); a
  zero-length bone takes the parent's linear part pinned at its first joint.

Weights (``joint_weights``, computed once per source mesh) blend a copy's transform with the part
on the other side of a joint: along the joint's bisecting line over ``BLEND`` of the body scale,
fully within ``JOINT_RADIUS`` of the joint (``HIP_RADIUS`` at the hips) and fading out by
twice that, so the copies of both
parts near a joint get the same weights (the mesh bends there) while parts touching away from any
joint move apart. The head side of the neck does not blend: the torso's copies above the neck,
and its copies of any vertex the head holds, follow the head (a limb's copies there, an arm
raised across the face, follow the limb: the head's layer holds what the arm hid). When the source or the target is seen from the side, the trunk's side of a
shoulder does not blend either: the shoulder lies inside the trunk's outline there, and the
trunk's copies around it are the chest and back (so a mesh keeps two sets of weights, and a
target's view picks one).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from interorder_rt.keypoints import INDEX, visible
from interorder_rt.pose.parts import BONE, HEAD, PARTS, TORSO
from interorder_rt.pose.regions import FACE, TRUNK_HALF_DEPTH
from interorder_rt.pose.skeleton import body_scale, spine
from interorder_rt.pose.transforms import anchored, fit_affine, fit_similarity
from interorder_rt.pose.views import SIDE_SPAN, SIDE_VIEWS, view_of

BLEND = 0.12  # half width of a joint's blend, share of the body scale
JOINT_RADIUS = 0.3  # where copies of both parts move alike, share of the body scale
HIP_RADIUS = 0.8  # the same at the hips, where the thigh's whole border with the torso is skin
CROTCH_RADIUS = 0.3  # where the thighs' shared border stays joined, from each hip
MAX_STRETCH = 2.0  # most a bone stretches along itself, relative to the body's change of scale
NECK_LIFT = 0.15  # the head's joint line lies this far above the neck, share of the body scale

_NECK = INDEX["neck"]
_HIPS = (INDEX["right_hip"], INDEX["left_hip"])
_SHOULDERS = (INDEX["right_shoulder"], INDEX["left_shoulder"])
_ROLL_PAIRS = tuple((INDEX[f"right_{k}"], INDEX[f"left_{k}"]) for k in ("ear", "eye"))
_MIN_ROLL_SPAN = 0.1
_PART_INDEX = {part.name: p for p, part in enumerate(PARTS)}
PARENT = tuple(_PART_INDEX.get(part.parent, -1) for part in PARTS)


def _angle(v: np.ndarray) -> float:
    return float(np.arctan2(v[1], v[0]))


def _rotation(turn: float, ratio: float) -> np.ndarray:
    return ratio * np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])


def _shoulder_span(keypoints: np.ndarray, across: np.ndarray) -> float:
    """The shoulders' distance across the spine (0 without both)."""
    rs, ls = INDEX["right_shoulder"], INDEX["left_shoulder"]
    if not visible(keypoints)[[rs, ls]].all():
        return 0.0
    return abs(float((keypoints[ls] - keypoints[rs]) @ across))


def _side_on(source: np.ndarray, target: np.ndarray, width: float) -> np.ndarray | None:
    """The torso between a side view and a wider one (``width``: the source torso's pixels across
    its spine): along the spine as the spines, across from ``width`` to the target's shoulder span
    (a side-view source, a front target) or to the trunk's side-on thickness (a front source, a
    side-view target). None when neither applies."""
    s_spine, t_spine = spine(source), spine(target)
    s_length, t_length = float(np.hypot(*s_spine)), float(np.hypot(*t_spine))
    if not (s_length >= 1 and t_length >= 1 and width >= 1):
        return None
    s_across = np.array([-s_spine[1], s_spine[0]]) / s_length
    t_across = np.array([-t_spine[1], t_spine[0]]) / t_length
    scaled = width * t_length / s_length
    span = _shoulder_span(target, t_across)
    thickness = 2 * TRUNK_HALF_DEPTH * t_length
    if span > scaled:
        t_width = span
    elif span < SIDE_SPAN * t_length and _shoulder_span(source, s_across) >= SIDE_SPAN * s_length and scaled > thickness:
        t_width = thickness
    else:
        return None
    s_frame = _frame(source[_NECK], source[_NECK] + s_spine, width)
    t_frame = _frame(target[_NECK], target[_NECK] + t_spine, t_width)
    return _from_frames(s_frame, t_frame, source[_NECK], target[_NECK])


def _seen_side_on(keypoints: np.ndarray) -> bool:
    """Whether both shoulders are there and closer across the spine than ``SIDE_SPAN`` of it: the
    trunk is seen side-on, and an affine fit of its keypoints would stretch the shoulders' few
    pixels apart across a whole torso (or squash a torso onto a line)."""
    axis = spine(keypoints)
    length = float(np.hypot(*axis))
    if length < 1 or not visible(keypoints)[[INDEX["right_shoulder"], INDEX["left_shoulder"]]].all():
        return False
    return _shoulder_span(keypoints, np.array([-axis[1], axis[0]]) / length) < SIDE_SPAN * length


def _torso(source: np.ndarray, target: np.ndarray, shared: np.ndarray, ratio: float, width: float) -> np.ndarray:
    anchors = [k for k in PARTS[TORSO].anchors if shared[k]]
    s, t = source[anchors].astype(np.float64), target[anchors].astype(np.float64)
    matrix = None if _seen_side_on(source) or _seen_side_on(target) else fit_affine(s, t)
    if matrix is None:
        matrix = _side_on(source, target, width)
    if matrix is None:
        matrix = fit_similarity(s, t)
    if matrix is None:
        turn = _angle(spine(target)) - _angle(spine(source))
        matrix = anchored(_rotation(turn, ratio), source[_NECK].astype(np.float64), target[_NECK].astype(np.float64))
    return matrix


def _head(source: np.ndarray, target: np.ndarray, shared: np.ndarray, scales: tuple[float, float]) -> np.ndarray:
    turn = _angle(spine(target)) - _angle(spine(source))
    for a, b in _ROLL_PAIRS:
        if shared[a] and shared[b]:
            s_line, t_line = source[b] - source[a], target[b] - target[a]
            if min(np.hypot(*s_line) / scales[0], np.hypot(*t_line) / scales[1]) >= _MIN_ROLL_SPAN:
                turn = _angle(t_line) - _angle(s_line)
                break
    linear = _rotation(turn, scales[1] / scales[0])
    return anchored(linear, source[_NECK].astype(np.float64), target[_NECK].astype(np.float64))


def _frame(a, b, width: float) -> tuple[float, float, float, float] | None:
    """Columns (bone vector, ``width`` across it) of a bone's frame as p, q, r, s of [[p, q], [r, s]]."""
    dx, dy = float(b[0] - a[0]), float(b[1] - a[1])
    length = math.hypot(dx, dy)
    if length < 1.0:
        return None
    return dx, -dy / length * width, dy, dx / length * width


def _bone(
    p: int, source: np.ndarray, target: np.ndarray, scales: tuple[float, float], parent: np.ndarray
) -> np.ndarray:
    a, b = PARTS[p].anchors
    sa, sb, ta, tb = source[a], source[b], target[a], target[b]
    s_length, t_length = math.hypot(*(sb - sa)), math.hypot(*(tb - ta))
    limit = MAX_STRETCH * scales[1] / scales[0] * s_length
    if t_length > limit:  # a bone foreshortened in the source: stretching it would spray its pixels
        tb = ta + (tb - ta) * np.float32(limit / t_length)
    s_frame, t_frame = _frame(sa, sb, scales[0]), _frame(ta, tb, scales[1])
    if s_frame is None or t_frame is None:
        return anchored(parent[:, :2], sa.astype(np.float64), ta.astype(np.float64))
    return _from_frames(s_frame, t_frame, sa, ta)


def _from_frames(s_frame, t_frame, source_point: np.ndarray, target_point: np.ndarray) -> np.ndarray:
    """The affine taking one frame's columns onto the other's, ``source_point`` onto ``target_point``."""
    p0, q0, r0, s0 = s_frame
    p1, q1, r1, s1 = t_frame
    det = p0 * s0 - q0 * r0
    inverse = ((s0 / det, -q0 / det), (-r0 / det, p0 / det))
    linear = np.array([[p1 * inverse[0][0] + q1 * inverse[1][0], p1 * inverse[0][1] + q1 * inverse[1][1]],
                       [r1 * inverse[0][0] + s1 * inverse[1][0], r1 * inverse[0][1] + s1 * inverse[1][1]]])
    return anchored(linear, source_point.astype(np.float64), target_point.astype(np.float64))


def part_transforms(source: np.ndarray, target: np.ndarray, torso_width: float = 0.0) -> np.ndarray:
    """(P, 2, 3) source -> target transform of every part (module doc); both poses checked."""
    s_present, t_present = visible(source), visible(target)
    shared = s_present & t_present
    scales = (body_scale(source), body_scale(target))
    out = np.zeros((len(PARTS), 2, 3))
    out[TORSO] = _torso(source, target, shared, scales[1] / scales[0], torso_width)
    out[HEAD] = _head(source, target, shared, scales)
    for p, part in enumerate(PARTS):  # parents come before their children in PARTS
        if part.fit != BONE:
            continue
        parent = out[PARENT[p]]
        out[p] = _bone(p, source, target, scales, parent) if all(shared[k] for k in part.anchors) else parent
    return out


def _unit(v: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 1e-6 else fallback


class _Joint(NamedTuple):
    parent: int
    child: int
    point: np.ndarray
    normal: np.ndarray  # unit, towards the child
    one_sided: bool  # the neck: the head's copies do not blend
    radius: float
    parent_follows: bool  # the parent's copies blend too (not at a side view's shoulder)


def _joints(keypoints: np.ndarray, scale: float, side: bool) -> list[_Joint]:
    """The joints whose keypoints the source holds. ``side``: the shoulders lie inside the trunk's
    outline with the arms over it (the source or the target seen from the side), so the trunk does
    not follow an arm there (its copies around the shoulder are the chest and back, not the
    armpit); the arm's top follows the trunk."""
    present = visible(keypoints)
    kp = keypoints.astype(np.float64)
    down = _unit(spine(keypoints), np.array([0.0, 1.0]))
    joints = []
    face = [k for k in FACE if present[k]]
    up = _unit(kp[face].mean(axis=0) - kp[_NECK], -down) if face else -down
    joints.append(_Joint(TORSO, HEAD, kp[_NECK] + up * NECK_LIFT * scale, up, True, JOINT_RADIUS, True))
    for p, part in enumerate(PARTS):
        if part.fit != BONE or not all(present[k] for k in part.anchors):
            continue
        a, b = part.anchors
        into_child = _unit(kp[b] - kp[a], down)
        parent = PARENT[p]
        if parent == TORSO:
            into_parent = _unit(kp[_NECK] - kp[a], -down) if a != _NECK else -down
        else:
            into_parent = _unit(kp[PARTS[parent].anchors[0]] - kp[a], -into_child)
        radius = HIP_RADIUS if a in _HIPS else JOINT_RADIUS
        follows = not (side and parent == TORSO and a in _SHOULDERS)
        joints.append(_Joint(parent, p, kp[a], _unit(into_child - into_parent, into_child), False, radius, follows))
    return joints


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _glued_pairs(parent: int, child: int, radius: float) -> list[tuple[int, int, float]]:
    """Layers whose shared vertices stay together near this joint, with the radius: its two
    parts, and at a hip both thighs, within ``CROTCH_RADIUS`` (they meet through the pelvis)."""
    pairs = [(parent, child, radius)]
    if PARTS[child].name.endswith("thigh") and parent == TORSO:
        pairs.append((_PART_INDEX["right_thigh"], _PART_INDEX["left_thigh"], CROTCH_RADIUS))
    return pairs


def joint_weights(
    points: np.ndarray, copy_vertex: np.ndarray, copy_part: np.ndarray, keypoints: np.ndarray, side: bool = False
) -> np.ndarray:
    """(C, P) float32 weights of each vertex copy (at source ``points`` (C, 2), standing for vertex
    ``copy_vertex`` in the layer of part ``copy_part``); ``side``: for a side view (of the source
    or the target), where the trunk does not follow the arms (``_joints``).

    Each copy blends its part with the other part of its part's nearest joint. Then the copies of
    one vertex in two layers glued at a joint (``_glued_pairs``) move to their mean weights, fully
    within the joint's radius, fading out by twice it; the torso's copies of a vertex the head
    holds follow the head.
    """
    scale = body_scale(keypoints)
    parts = np.asarray(copy_part, np.int64)
    count = len(points)
    weights = np.zeros((count, len(PARTS)), np.float64)
    weights[np.arange(count), parts] = 1.0
    copy_of = np.full((len(PARTS), int(copy_vertex.max(initial=-1)) + 1), -1, np.int64)
    copy_of[parts, copy_vertex] = np.arange(count)
    joints = _joints(keypoints, scale, side or view_of(keypoints, scale) in SIDE_VIEWS)
    offsets = [points.astype(np.float64) - joint.point for joint in joints]
    distances = np.stack([np.hypot(o[:, 0], o[:, 1]) for o in offsets])  # (J, C)
    involved = np.stack([(parts == joint.parent) | (parts == joint.child) for joint in joints])
    nearest = np.argmin(np.where(involved, distances, np.inf), axis=0)
    for j, joint in enumerate(joints):
        parent, child = joint.parent, joint.child
        along = offsets[j] @ joint.normal / (BLEND * scale)
        child_share = _smoothstep(along + 1 if joint.one_sided else 0.5 + along / 2)
        near = np.clip(2.0 - distances[j] / (joint.radius * scale), 0.0, 1.0)
        for owner, other, share in ((child, parent, 1 - child_share), (parent, child, child_share)):
            if (joint.one_sided and owner == child) or (not joint.parent_follows and owner == parent):
                continue
            rows = (nearest == j) & (parts == owner)
            weights[rows, other] += (near * share)[rows]
            weights[rows, owner] -= (near * share)[rows]
    for j, joint in enumerate(joints):
        if not joint.parent_follows:
            continue
        for q, r, glue in _glued_pairs(joint.parent, joint.child, joint.radius):
            cq = np.flatnonzero((parts == q) & (copy_of[r, copy_vertex] >= 0))
            cr = copy_of[r, copy_vertex[cq]]
            strength = np.clip(2.0 - distances[j][cq, None] / (glue * scale), 0.0, 1.0)
            mean = (weights[cq] + weights[cr]) / 2
            weights[cq] += strength * (mean - weights[cq])
            weights[cr] += strength * (mean - weights[cr])
    head = copy_of[HEAD, copy_vertex]
    follows = (head >= 0) & (parts == TORSO)  # the neck's seam; a limb across the face keeps its own
    weights[follows] = weights[head[follows]]
    weights = weights.clip(0.0, None)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)
