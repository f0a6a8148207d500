"""Merging as plain array functions: removal planning, layer assembly, back-to-front painting,
and a temporally stable order for streams."""

from interorder_rt.compose.background_memory import BackgroundMemory
from interorder_rt.compose.boxes import listed_boxes, mask_boxes
from interorder_rt.compose.instance_memory import InstanceMemory
from interorder_rt.compose.joints import joint_occluders, with_joint_evidence
from interorder_rt.compose.layering import merge_layering, trusted_edges
from interorder_rt.compose.merge import merge_transfer, transfer_layers
from interorder_rt.compose.order_reuse import OrderReuse
from interorder_rt.compose.painter import Layer, paint, paste_on_top
from interorder_rt.compose.overlap import disjoint_for_order, give_to_front, overlapping_pairs
from interorder_rt.compose.repeat_cache import RepeatCache
from interorder_rt.compose.removal import (
    RemovalPlan,
    grow_targets,
    layer_ranks,
    margin_pixels,
    plan_removal,
    with_revealed,
)
from interorder_rt.compose.temporal import OrderSmoother

__all__ = [
    "BackgroundMemory",
    "InstanceMemory",
    "Layer",
    "OrderReuse",
    "OrderSmoother",
    "RemovalPlan",
    "RepeatCache",
    "joint_occluders",
    "disjoint_for_order",
    "give_to_front",
    "grow_targets",
    "layer_ranks",
    "margin_pixels",
    "listed_boxes",
    "mask_boxes",
    "merge_layering",
    "merge_transfer",
    "overlapping_pairs",
    "paint",
    "paste_on_top",
    "plan_removal",
    "transfer_layers",
    "trusted_edges",
    "with_joint_evidence",
    "with_revealed",
]
