"""Merging as plain array functions: removal planning, layer assembly, back-to-front painting,
and a temporally stable order for streams."""

from interorder_rt.compose.joints import joint_occluders, with_joint_evidence
from interorder_rt.compose.layering import merge_layering, trusted_edges
from interorder_rt.compose.merge import merge_transfer, transfer_layers
from interorder_rt.compose.painter import Layer, paint, paste_on_top
from interorder_rt.compose.removal import RemovalPlan, layer_ranks, plan_removal
from interorder_rt.compose.temporal import OrderSmoother

__all__ = [
    "Layer",
    "OrderSmoother",
    "RemovalPlan",
    "joint_occluders",
    "layer_ranks",
    "merge_layering",
    "merge_transfer",
    "paint",
    "paste_on_top",
    "plan_removal",
    "transfer_layers",
    "trusted_edges",
    "with_joint_evidence",
]
