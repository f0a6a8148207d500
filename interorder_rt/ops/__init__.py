"""Mask and order ops: a bit-packed ``MaskSet`` and the order assembly around it."""

from interorder_rt.ops.maskset import MaskSet
from interorder_rt.ops.order import OrderResult, layering_from_order, order_from_amodal, order_from_growth

__all__ = ["MaskSet", "OrderResult", "layering_from_order", "order_from_amodal", "order_from_growth"]
