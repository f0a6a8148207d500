"""Pose transfer f_P: the ``PoseTransfer`` protocol, the default ``MeshWarp`` (skinned mesh), the
older ``PartWarp`` (per-part affine blend, kept as the baseline), keypoint converters."""

from interorder_rt.pose.formats import coco17_to_coco18, mediapipe33_to_coco18
from interorder_rt.pose.mesh_warp import MeshWarp
from interorder_rt.pose.output import PoseOutput, ViewReport
from interorder_rt.pose.protocol import PoseTransfer, SourcePerson
from interorder_rt.pose.warp import PartWarp

__all__ = [
    "MeshWarp", "PartWarp", "PoseOutput", "PoseTransfer", "SourcePerson", "ViewReport", "coco17_to_coco18",
    "mediapipe33_to_coco18",
]
