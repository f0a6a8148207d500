"""Pose transfer f_P: the ``PoseTransfer`` protocol, the training-free ``PartWarp``, keypoint converters."""

from interorder_rt.pose.formats import coco17_to_coco18, mediapipe33_to_coco18
from interorder_rt.pose.protocol import PoseTransfer, SourcePerson
from interorder_rt.pose.warp import PartWarp

__all__ = ["PartWarp", "PoseTransfer", "SourcePerson", "coco17_to_coco18", "mediapipe33_to_coco18"]
