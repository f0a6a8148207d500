"""The source person as a triangle mesh split into part layers, built once per ``SourcePerson``.

Vertices: the mask's outline (every ``step / 2`` pixels), the outlines of the part regions
(``regions.geodesic_labels``) and of their hidden extents, and a grid inside (every ``step``
pixels), with ``step`` a fraction of the body scale. A Delaunay triangulation of them, less the
triangles that leave the mask, is split into one layer per part by the label at each triangle's
centre. A part's layer also holds the triangles where a part in front of it in the source's view
lies inside its convex hull in the source (an arm across the chest): moved away, the arm reveals
torso, whose texture there is the torso's own pixels carried inwards, never the arm's. From the
side, a far limb's layer also holds the trunk's and its mirror limb's triangles along its bone
(within the mirror limb's reach): the limb they hide, turned towards the camera, is as wide as
the one that hid it; and the near limb's layer holds the far one's triangles within its own reach
of its bone (where two legs overlap, the labels split their pixels, but the near leg shows whole).
The torso's layer also holds what lies over the neck, between the neck keypoint and the head (an
arm raised past the chin): the head stays joined to the trunk when that moves away.

Every layer owns its copies of the vertices it uses (``copy_vertex``), so parts that touch in the
source without sharing a joint (an arm hanging beside the torso) come apart cleanly; near a joint
the copies of both parts get the same skinning weights (``skinning.joint_weights``) and stay joined.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from interorder_rt.keypoints import INDEX, visible
from interorder_rt.pose.fill import fill_from_nearest
from interorder_rt.pose.parts import HEAD, MIRROR_PART, PARTS, TORSO
from interorder_rt.pose.protocol import SourcePerson
from interorder_rt.pose.raster import internal_edges
from interorder_rt.pose.regions import geodesic_labels, limb_reach
from interorder_rt.pose.skeleton import body_scale, part_distances
from interorder_rt.pose.views import DEPTH, SIDE_VIEWS, view_of

_BORDER = 2  # pixels kept around the person, so bilinear samples at its edge read the person's colours
_OUTSET = 0.5  # the mask's outline vertices sit on the pixel edges, half a pixel out of the centres
NECK_HALF_WIDTH = 0.12  # half the neck's width, as a share of the body scale
_STEP_PER_SCALE = 1 / 14  # vertex spacing inside, as a share of the body scale
_MIN_STEP, _MAX_STEP = 3.0, 16.0


@dataclass(frozen=True)
class SourceMesh:
    origin: tuple[int, int]  # x, y of the crop in the source image; every array below is in crop pixels
    labels: np.ndarray  # (h, w) uint8: 1 + part of each person pixel, 0 outside
    vertices: np.ndarray  # (V, 2) float32 x, y
    copy_vertex: np.ndarray  # (C,) int64: the vertex each layer copy stands for
    copy_part: np.ndarray  # (C,) int64: the layer (part) that owns it
    triangles: np.ndarray  # (T, 3) int32 indices of copies
    triangle_part: np.ndarray  # (T,) int64
    internal: np.ndarray  # (T,) uint8: edges shared inside the layer (``raster.internal_edges``)
    textures: np.ndarray  # (P, h, w, 3) uint8: plane q = part q's own pixels, carried past them
    step: float  # vertex spacing inside the mask, pixels

    @property
    def parts(self) -> np.ndarray:
        """Parts that own at least one triangle."""
        return np.unique(self.triangle_part)


def _outline_points(mask: np.ndarray, spacing: float, outset: float = 0.0) -> list[np.ndarray]:
    """Points every ``spacing`` pixels along the outlines of ``mask`` (pixel centres), moved
    ``outset`` pixels outwards along the outline's normal."""
    contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    every = max(int(spacing), 1)
    out = []
    for contour in contours:
        c = contour.reshape(-1, 2).astype(np.float32)
        points = c[::every]
        if outset and len(c) >= 3:
            tangent = np.roll(c, -1, axis=0)[::every] - np.roll(c, 1, axis=0)[::every]
            normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
            normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-6)
            flip = _inside(mask, points + normal) & ~_inside(mask, points - normal)
            normal[flip] *= -1
            points = points + outset * normal
        out.append(points)
    return out


def _grid_points(mask: np.ndarray, step: float) -> np.ndarray:
    inside = cv2.distanceTransform(mask.view(np.uint8), cv2.DIST_L2, 3) >= step / 2
    h, w = mask.shape
    ys, xs = np.mgrid[step / 2 : h : step, step / 2 : w : step]
    xs[1::2] += step / 2  # staggered rows: near-equilateral triangles
    xi, yi = np.round(xs).astype(np.int64).clip(0, w - 1), np.round(ys).astype(np.int64).clip(0, h - 1)
    keep = inside[yi, xi]
    return np.stack([xi[keep], yi[keep]], axis=1).astype(np.float32)


def _thinned(points: np.ndarray, spacing: float) -> np.ndarray:
    """``points`` less the later ones falling in a cell of ``spacing`` pixels already taken."""
    cells = np.floor(points / spacing).astype(np.int64)
    _, first = np.unique(cells[:, 0] * 1_000_003 + cells[:, 1], return_index=True)
    return points[np.sort(first)]


def _band(shape: tuple[int, int], a: np.ndarray, b: np.ndarray, radius: float) -> np.ndarray:
    """(h, w) bool: the pixels within about ``radius`` of the segment from ``a`` to ``b``."""
    band = np.zeros(shape, np.uint8)
    cv2.line(band, tuple(int(v) for v in np.round(a)), tuple(int(v) for v in np.round(b)), 1,
             max(int(round(2 * radius)), 1))
    return band > 0


def _bone_band(shape: tuple[int, int], part: int, keypoints: np.ndarray, radius: float) -> np.ndarray:
    """(h, w) bool: the pixels within about ``radius`` of ``part``'s bone."""
    a, b = (keypoints[k] for k in PARTS[part].anchors)
    return _band(shape, a, b, radius)


def _hidden_extents(labels: np.ndarray, mask: np.ndarray, depth: np.ndarray, keypoints: np.ndarray,
                    far: tuple[int, ...], scale: float) -> dict[int, np.ndarray]:
    """Per part, the pixels of the parts in front of it in the source view (``depth``, larger is
    nearer) inside its convex hull; for a ``far`` limb (the side view's, under the body) also the
    trunk's and its mirror limb's pixels within the mirror limb's reach of its bone, which hide it;
    for the near limb in front of a far one, the far one's pixels within its own reach of its bone
    (where two limbs overlap, the labels split their pixels between them, but the near one shows
    whole)."""
    present = visible(keypoints)
    distances = part_distances(keypoints, *labels.shape) if far else None
    out = {}
    hull = np.empty(labels.shape, np.uint8)
    for q in range(len(PARTS)):
        whole = all(present[k] for k in PARTS[q].anchors)
        hidden = np.zeros(labels.shape, bool)
        front = [r for r in range(len(PARTS)) if depth[r] > depth[q]]
        if front:
            hull.fill(0)
            points = cv2.findNonZero((labels == q + 1).view(np.uint8))
            if points is not None:
                cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
            hidden = (hull > 0) & mask & np.isin(labels, np.array(front) + 1)
        if q in far and whole:
            mirror = MIRROR_PART[q]
            band = _bone_band(labels.shape, q, keypoints, limb_reach(labels, distances, mirror))
            hidden |= band & np.isin(labels, (TORSO + 1, mirror + 1))
        elif MIRROR_PART[q] in far and whole:
            band = _bone_band(labels.shape, q, keypoints, limb_reach(labels, distances, q))
            hidden |= band & (labels == MIRROR_PART[q] + 1)
        if q == TORSO:
            hidden |= _neck(labels, mask, keypoints, scale)
        if hidden.any():
            out[q] = hidden
    return out


def _neck(labels: np.ndarray, mask: np.ndarray, keypoints: np.ndarray, scale: float) -> np.ndarray:
    """The pixels of other parts (an arm raised past the chin) over the neck, between the neck
    keypoint and the head: the torso's, so that the head stays joined to it when they move away."""
    neck = keypoints[INDEX["neck"]]
    head = cv2.findNonZero((labels == HEAD + 1).view(np.uint8))
    if head is None or not np.isfinite(neck).all():
        return np.zeros(labels.shape, bool)
    points = head.reshape(-1, 2)
    chin = points[np.argmin(np.hypot(*(points - neck).T))]
    band = _band(labels.shape, neck, chin, NECK_HALF_WIDTH * scale)
    return band & mask & ~np.isin(labels, (TORSO + 1, HEAD + 1))


def _inside(mask: np.ndarray, points: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    xi = np.clip(np.round(points[..., 0]).astype(np.int64), 0, w - 1)
    yi = np.clip(np.round(points[..., 1]).astype(np.int64), 0, h - 1)
    return mask[yi, xi]


def _triangulate(points: np.ndarray, mask: np.ndarray, step: float) -> np.ndarray:
    """(T, 3) Delaunay triangles of ``points`` whose centre and edge midpoints lie in the mask."""
    if len(points) < 3:
        return np.zeros((0, 3), np.int64)
    simplices = Delaunay(points.astype(np.float64)).simplices
    corners = points[simplices]  # (T, 3, 2)
    mids = (corners + corners[:, [1, 2, 0]]) / 2
    longest = np.linalg.norm(corners - corners[:, [1, 2, 0]], axis=2).max(axis=1)
    loose = cv2.dilate(mask.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    keep = _inside(mask, corners.mean(axis=1)) & _inside(loose, mids).all(axis=1) & (longest <= 3 * step)
    return simplices[keep]


def _layer_triangles(triangles, points, labels, hidden) -> tuple[np.ndarray, np.ndarray]:
    """(T', 3) vertex triangles and their parts: each triangle in the layer of its centre's label,
    again in the layer of every part whose hidden extent holds its centre."""
    centres = points[triangles].mean(axis=1)
    h, w = labels.shape
    xi = np.clip(np.round(centres[:, 0]).astype(np.int64), 0, w - 1)
    yi = np.clip(np.round(centres[:, 1]).astype(np.int64), 0, h - 1)
    own = labels[yi, xi].astype(np.int64) - 1
    tris, parts = [triangles[own >= 0]], [own[own >= 0]]
    for q, extent in hidden.items():
        inside = extent[yi, xi] & (own != q)
        tris.append(triangles[inside])
        parts.append(np.full(int(inside.sum()), q, np.int64))
    return np.concatenate(tris), np.concatenate(parts)


def _textures(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    planes = np.empty((len(PARTS), *image.shape), np.uint8)
    for q in range(len(PARTS)):
        own = labels == q + 1
        planes[q] = fill_from_nearest(image, own, ~own) if own.any() else image
    return planes


def build_mesh(source: SourcePerson) -> SourceMesh:
    """The layered mesh of ``source`` (module doc); work limited to the person's box."""
    x0, y0, x1, y1 = source.box(_BORDER)
    mask = np.ascontiguousarray(source.mask[y0:y1, x0:x1])
    keypoints = source.keypoints - np.float32([x0, y0])
    scale = body_scale(source.keypoints)
    step = float(np.clip(scale * _STEP_PER_SCALE, _MIN_STEP, _MAX_STEP))

    view = view_of(source.keypoints, scale)
    depth = DEPTH[view]
    labels = geodesic_labels(mask, keypoints, scale, view)
    far = tuple(p for p in range(len(PARTS)) if depth[p] < depth[TORSO]) if view in SIDE_VIEWS else ()
    hidden = _hidden_extents(labels, mask, depth, keypoints, far, scale)
    outlines = _outline_points(mask, step / 2, _OUTSET)
    for q in range(len(PARTS)):
        region = labels == q + 1
        if region.any():
            outlines += _outline_points(region, step / 2)
    for extent in hidden.values():
        outlines += _outline_points(extent, step / 2)
    points = _thinned(np.concatenate([*outlines, _grid_points(mask, step)]), step / 3)
    triangles, parts = _layer_triangles(_triangulate(points, mask, step), points, labels, hidden)

    keys = parts[:, None] * len(points) + triangles  # one copy per (part, vertex)
    unique, inverse = np.unique(keys, return_inverse=True)
    copies = inverse.reshape(-1, 3).astype(np.int32)
    image = np.ascontiguousarray(source.image[y0:y1, x0:x1])
    return SourceMesh(
        origin=(x0, y0), labels=labels, vertices=points.astype(np.float32),
        copy_vertex=unique % len(points), copy_part=unique // len(points),
        triangles=copies, triangle_part=parts, internal=internal_edges(copies),
        textures=_textures(image, labels), step=step,
    )
