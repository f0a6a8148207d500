"""``MeshWarp``: the default pose transfer f_P, a skinned triangle mesh of the source person.

Once per ``SourcePerson`` (cached, a video reuses it): the layered mesh (``pose.mesh``) and the
copies' skinning weights (``skinning.joint_weights``: one set for targets seen from the side, one
for the others). Per target pose: one transform per part
(``skinning.part_transforms``), every vertex copy moved by its weighted blend of them, the
layers' depth from the target's view (``pose.views``), and the compiled rasterizer
(``pose.raster``) run on the box the moved mesh occupies only. The silhouette's coverage becomes
the output's ``alpha``; the mask is every pixel it touches (alpha > 0).

Views: when the target is seen from the back (no nose or eye) and the source shows a face, the
head is painted with its face region replaced by the head's other pixels (hair, hat), since a
face where the target shows none is the worse error; the output's ``views`` says so. A back-view
source moved into a front-view target keeps the back of its head (no face is invented).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from interorder_rt.pose.fill import fill_from_nearest
from interorder_rt.pose.mesh import SourceMesh, build_mesh
from interorder_rt.pose.output import PoseOutput, ViewReport
from interorder_rt.keypoints import INDEX
from interorder_rt.pose.parts import HEAD, PARTS, TORSO
from interorder_rt.pose.protocol import SourcePerson, check_core_keypoints, check_size
from interorder_rt.pose.raster import Raster, rasterize
from interorder_rt.pose.regions import face_polygon
from interorder_rt.pose.skeleton import body_scale, spine
from interorder_rt.pose.skinning import joint_weights, part_transforms
from interorder_rt.pose.views import DEPTH, SIDE_VIEWS, shows_face, view_of

_FACELESS = len(PARTS)  # texture plane of the head without its face
_FACE_GROWTH = 0.08  # the face region painted over, grown by this share of the body scale


@dataclass(frozen=True)
class _Rig:
    mesh: SourceMesh
    weights: np.ndarray  # (C, P) float64
    side_weights: np.ndarray  # (C, P) float64, for a side-view target (``skinning.joint_weights``)
    points: np.ndarray  # (C, 2) float32 source pixel of each copy (in the source image)
    textures: np.ndarray  # (P + 1, h, w, 3): the mesh's planes and the faceless head
    view: str
    face: bool
    torso_width: float  # the torso's width across its spine in the source, pixels


def _faceless_head(mesh: SourceMesh, keypoints: np.ndarray, scale: float) -> np.ndarray:
    """The head plane with the face's pixels taken from the head's other pixels."""
    head = mesh.textures[HEAD]
    polygon = face_polygon(keypoints - np.float32(mesh.origin), scale)
    if polygon is None:
        return head
    face = np.zeros(mesh.labels.shape, np.uint8)
    cv2.fillConvexPoly(face, polygon, 1)
    grow = max(int(round(_FACE_GROWTH * scale)), 1)
    face = cv2.dilate(face, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0
    rest = (mesh.labels == HEAD + 1) & ~face
    return fill_from_nearest(head, rest, ~rest) if rest.any() else head


def _torso_width(mesh: SourceMesh, keypoints: np.ndarray) -> float:
    """Width of the torso's pixels across the spine: four times their median distance from it."""
    ys, xs = np.nonzero(mesh.labels == TORSO + 1)
    axis = spine(keypoints)
    length = float(np.hypot(*axis))
    if not len(xs) or length < 1:
        return 0.0
    neck = keypoints[INDEX["neck"]] - np.float32(mesh.origin)
    across = np.array([-axis[1], axis[0]]) / length
    return 4.0 * float(np.median(np.abs((xs - neck[0]) * across[0] + (ys - neck[1]) * across[1])))


def build_rig(source: SourcePerson) -> _Rig:
    mesh = build_mesh(source)
    points = mesh.vertices[mesh.copy_vertex] + np.float32(mesh.origin)
    scale = body_scale(source.keypoints)
    view = view_of(source.keypoints, scale)

    def weights_for(side: bool) -> np.ndarray:
        return joint_weights(points, mesh.copy_vertex, mesh.copy_part, source.keypoints, side).astype(np.float64)

    weights = weights_for(False)
    side_weights = weights if view in SIDE_VIEWS else weights_for(True)  # a side-view source's are the same
    textures = np.concatenate([mesh.textures, _faceless_head(mesh, source.keypoints, scale)[None]])
    return _Rig(mesh, weights, side_weights, points, textures, view, shows_face(source.keypoints),
                _torso_width(mesh, source.keypoints))


def _views(rig: _Rig, target: np.ndarray, target_view: str) -> tuple[ViewReport, bool]:
    """The view report and whether the head is painted without its face."""
    faceless = rig.face and not shows_face(target)
    note = ""
    if faceless:
        note = "the target shows no face: the source's head is painted without its face"
    elif not rig.face and shows_face(target):
        note = "the source shows no face: the target keeps the back of the source's head"
    elif {rig.view, target_view} == {"front", "back"}:
        note = f"source seen from the {rig.view}, target from the {target_view}: the body is mirrored onto it"
    return ViewReport(rig.view, target_view, note), faceless


def moved_copies(rig: _Rig, source_keypoints: np.ndarray, target: np.ndarray,
                 target_view: str | None = None) -> np.ndarray:
    """(C, 2) float64 target position of every vertex copy: its weighted blend of the part
    transforms, with the weights for the ``target_view`` (``view_of`` the target when None)."""
    transforms = part_transforms(source_keypoints, target, rig.torso_width).reshape(len(PARTS), 6)
    view = view_of(target, body_scale(target)) if target_view is None else target_view
    blended = (rig.side_weights if view in SIDE_VIEWS else rig.weights) @ transforms  # (C, 6)
    x, y = rig.points[:, 0].astype(np.float64), rig.points[:, 1].astype(np.float64)
    return np.stack([blended[:, 0] * x + blended[:, 1] * y + blended[:, 2],
                     blended[:, 3] * x + blended[:, 4] * y + blended[:, 5]], axis=1)


class MeshWarp:
    """Training-free pose transfer by a skinned, layered triangle mesh (module doc).

    Returns a :class:`~interorder_rt.pose.output.PoseOutput` held in the moved mesh's box:
    ``(rgb, mask)`` with ``alpha`` (coverage, uint8) and ``views``. ``last_raster`` keeps the last call's raster in its box
    (owner triangle and source position per pixel) with the box's ``x0, y0``, for evaluation.
    """

    def __init__(self) -> None:
        self._cached: tuple[SourcePerson, _Rig] | None = None
        self.last_raster: tuple[Raster, int, int, np.ndarray] | None = None

    def rig(self, source: SourcePerson) -> _Rig:
        """The mesh and weights of ``source``, cached for the last source seen."""
        if self._cached is None or self._cached[0] is not source:
            self._cached = (source, build_rig(source))
        return self._cached[1]

    def prepare(self, source: SourcePerson) -> None:
        """Build ``source``'s rig now (``PoseTransfer``: the Engine calls it when the source is set)."""
        self.rig(source)

    def __call__(self, source: SourcePerson, target_keypoints: np.ndarray, size: tuple[int, int]) -> PoseOutput:
        """``source`` moved into ``target_keypoints`` (18, 2) on an ``(h, w)`` frame."""
        job, report = self.raster_job(source, target_keypoints, size)
        size = check_size(size)
        self.last_raster = None
        if job is None:
            nothing = np.zeros((0, 0), np.uint8)
            return PoseOutput.in_box(size, (0, 0, 0, 0), nothing[..., None].repeat(3, axis=2), nothing, report)
        x0, y0, x1, y1 = job.box
        raster = rasterize(*job.arrays[:6], y1 - y0, x1 - x0, job.arrays[6])
        self.last_raster = (raster, int(x0), int(y0), job.triangle_part)
        return PoseOutput.in_box(size, job.box, raster.rgb, raster.alpha, report)

    def raster_job(self, source: SourcePerson, target_keypoints: np.ndarray,
                   size: tuple[int, int]) -> tuple["RasterJob | None", ViewReport]:
        """The rasterizer call that renders ``source`` in ``target_keypoints`` (None when the moved
        mesh misses the frame), and the view report; ``backends.device_pose`` runs it on the GPU."""
        if not isinstance(source, SourcePerson):
            raise TypeError(f"source must be a SourcePerson, got {type(source).__name__}")
        target = check_core_keypoints(target_keypoints, name="target keypoints")
        height, width = check_size(size)
        rig = self.rig(source)
        mesh = rig.mesh
        target_view = view_of(target, body_scale(target))
        moved = moved_copies(rig, source.keypoints, target, target_view)

        report, faceless = _views(rig, target, target_view)
        planes = mesh.triangle_part.astype(np.int32)
        if faceless:
            planes = np.where(planes == HEAD, _FACELESS, planes).astype(np.int32)
        depth = DEPTH[target_view][mesh.triangle_part]

        finite = moved if np.isfinite(moved).all() else moved[np.isfinite(moved).all(axis=1)]
        if not len(finite):
            return None, report
        x0, y0 = (np.floor(finite.min(axis=0)) - 1).clip(0, [width, height]).astype(int)
        x1, y1 = (np.ceil(finite.max(axis=0)) + 2).clip(0, [width, height]).astype(int)
        if not (x1 > x0 and y1 > y0):
            return None, report
        arrays = (rig.textures, moved - [x0, y0], mesh.vertices[mesh.copy_vertex], mesh.triangles, planes, depth,
                  mesh.internal)
        return RasterJob(arrays, (int(x0), int(y0), int(x1), int(y1)), mesh.triangle_part), report


@dataclass(frozen=True)
class RasterJob:
    """One rasterizer call of a moved mesh: ``arrays`` (textures, moved vertices in box coordinates,
    texture coordinates, triangles, planes, depth, internal edges) and the frame ``box`` it fills."""

    arrays: tuple[np.ndarray, ...]
    box: tuple[int, int, int, int]
    triangle_part: np.ndarray
