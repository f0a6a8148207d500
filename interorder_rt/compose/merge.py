"""Merging transferred people into a reference frame, following its back-to-front layering."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from interorder_rt.compose.boxes import Box, union_box
from interorder_rt.compose.painter import Layer, paint_image, shown_pixels
from interorder_rt.compose.removal import RemovalPlan


def transfer_layers(
    image: np.ndarray,
    modal: np.ndarray,
    layering: Sequence[int],
    plan: RemovalPlan,
    completed: Mapping[int, np.ndarray],
    people: Mapping[int, Layer],
    boxes: Sequence[Box | None] | None = None,
) -> list[Layer]:
    """One layer per instance, back to front, with ``people[t]`` in the slot of each replaced t.

    An instance that reveals part of a hole (``plan.revealed``) paints its visible pixels plus
    the revealed ones from ``completed[k]``; every other instance paints its visible pixels from
    ``image``, so instances in front of a replaced person still occlude the new one.
    ``boxes[k]``, when given, holds ``modal[k]``: painting looks there only.
    """
    layers = []
    revealing = set(plan.needs_completion())
    for k in (int(i) for i in layering):
        box = None if boxes is None else boxes[k]
        if k in people:
            layers.append(people[k])
        elif k in revealing:
            if k not in completed:
                raise ValueError(f"instance {k} reveals part of a hole but has no completed content")
            reach = None if box is None else union_box([box, plan.box])
            layers.append(Layer(completed[k], modal[k] | plan.revealed[k], box=reach))
        else:
            layers.append(Layer(image, modal[k], box=box))
    return layers


def merge_transfer(
    background: np.ndarray,
    image: np.ndarray,
    modal: np.ndarray,
    layering: Sequence[int],
    plan: RemovalPlan,
    completed: Mapping[int, np.ndarray] | None,
    people: Mapping[int, Layer],
    boxes: Sequence[Box | None] | None = None,
    in_place: bool = False,
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Paint the merged frame over ``background`` (the reference with ``plan.background`` filled;
    over a copy of it, or over it itself with ``in_place``).

    Returns the image and, for each replaced instance, the mask of the new person's pixels that
    remain visible in it. ``boxes`` as for :func:`transfer_layers`.

    ``completed`` None says that ``background`` already holds the revealed pixels, staged back to
    front (``with_revealed``, as the Engine does): it then serves as each revealing instance's
    layer, and the layers below the first new person, which would repaint what it holds, are
    not painted.
    """
    layering = [int(i) for i in layering]
    if completed is None:
        completed = dict.fromkeys(plan.needs_completion(), background)
        layering = layering[min((layering.index(t) for t in people), default=len(layering)) :]
    layers = transfer_layers(image, modal, layering, plan, completed, people, boxes)
    out = paint_image(background, layers, in_place)
    visible = {t: shown_pixels(layers, layering.index(t)) for t in people}
    return out, visible
