"""Mask and order ops: a bit-packed ``MaskSet``, growth counts, and the order assembly around them."""

from interorder_rt.ops.maskset import MaskSet, growth_counts
from interorder_rt.ops.order import OrderResult, layering_from_order, order_from_amodal, order_from_growth

__all__ = ["MaskSet", "OrderResult", "growth_counts", "layering_from_order", "order_from_amodal", "order_from_growth"]
