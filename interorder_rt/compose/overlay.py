"""Pictures for people: labelled side-by-side panels, and an order graph drawn over a frame."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

# Distinct, saturated colours (RGB) for instance outlines and labels.
PALETTE = (
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (0, 128, 128), (170, 110, 40),
)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def label_panel(image: np.ndarray, title: str, bar: int = 22) -> np.ndarray:
    """``image`` with a dark title bar above it."""
    h, w = image.shape[:2]
    out = np.zeros((h + bar, w, 3), dtype=np.uint8)
    out[bar:] = image
    scale = bar / 40
    (tw, th), _ = cv2.getTextSize(title, FONT, scale, 1)
    cv2.putText(out, title, ((w - tw) // 2, (bar + th) // 2), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def side_by_side(panels: Sequence[np.ndarray], titles: Sequence[str], gap: int = 4) -> np.ndarray:
    """Same-height images in a row, each with its title, separated by ``gap`` dark pixels."""
    if len(panels) != len(titles):
        raise ValueError(f"{len(panels)} panels but {len(titles)} titles")
    labelled = [label_panel(p, t) for p, t in zip(panels, titles)]
    spacer = np.zeros((labelled[0].shape[0], gap, 3), dtype=np.uint8)
    row = [labelled[0]]
    for panel in labelled[1:]:
        row += [spacer, panel]
    return np.concatenate(row, axis=1)


def anchor_point(mask: np.ndarray) -> tuple[int, int]:
    """(x, y) of the mask pixel farthest from its outline: a label placed there stays on the instance."""
    distance = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return int(x), int(y)


def draw_order_graph(
    image: np.ndarray,
    masks: np.ndarray,
    order: np.ndarray,
    names: Sequence[str],
    highlight: Sequence[int] = (),
    scale: int = 2,
) -> np.ndarray:
    """``image`` (enlarged ``scale`` times) with each instance outlined and named, and an arrow
    from every instance to each instance it occludes (``order[i, j] == 1``).

    Instances in ``highlight`` get a thicker outline (e.g. the transferred person).
    """
    h, w = image.shape[:2]
    canvas = cv2.resize(image, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)
    canvas = (0.75 * canvas).astype(np.uint8)  # dim the picture so the graph stands out
    big = [cv2.resize(m.astype(np.uint8), (w * scale, h * scale), interpolation=cv2.INTER_NEAREST) for m in masks]
    colour = [PALETTE[k % len(PALETTE)] for k in range(len(masks))]
    for k, m in enumerate(big):
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(canvas, contours, -1, colour[k], 4 if k in highlight else 2, cv2.LINE_AA)
    anchors = [anchor_point(m.astype(bool)) for m in big]
    for i, j in zip(*np.nonzero(np.asarray(order) == 1)):
        (x0, y0), (x1, y1) = anchors[i], anchors[j]
        length = max(np.hypot(x1 - x0, y1 - y0), 1.0)
        shrink = min(14.0 / length, 0.45)  # stop short of the labels
        start = (int(x0 + shrink * (x1 - x0)), int(y0 + shrink * (y1 - y0)))
        end = (int(x1 - shrink * (x1 - x0)), int(y1 - shrink * (y1 - y0)))
        cv2.arrowedLine(canvas, start, end, (0, 0, 0), 5, cv2.LINE_AA, tipLength=14 / length)
        cv2.arrowedLine(canvas, start, end, (255, 255, 255), 2, cv2.LINE_AA, tipLength=14 / length)
    placed: list[tuple[int, int, int, int]] = []
    for k, (x, y) in enumerate(anchors):
        placed.append(_text_box(canvas, names[k], (x, y), colour[k], placed))
    return canvas


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _text_box(
    canvas: np.ndarray, text: str, centre: tuple[int, int], colour: tuple[int, int, int],
    avoid: Sequence[tuple[int, int, int, int]] = (),
) -> tuple[int, int, int, int]:
    """``text`` near ``centre`` in a filled box of ``colour`` (ink chosen to contrast), moved down
    or up past the boxes in ``avoid``; returns the box drawn, ``x0, y0, x1, y1``."""
    scale = 0.5
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    w, h = tw + 6, th + base + 7
    x0, y0 = centre[0] - w // 2, centre[1] - h // 2
    for step in range(1, 2 * len(avoid) + 2):
        box = (x0, y0, x0 + w, y0 + h)
        if not any(_overlaps(box, other) for other in avoid):
            break
        y0 = centre[1] - h // 2 + (step + 1) // 2 * (h + 2) * (1 if step % 2 else -1)
    box = (x0, y0, x0 + w, y0 + h)
    cv2.rectangle(canvas, box[:2], (box[2], box[3]), colour, -1)
    ink = (0, 0, 0) if sum(colour) > 380 else (255, 255, 255)
    cv2.putText(canvas, text, (x0 + 3, y0 + th + 3), FONT, scale, ink, 1, cv2.LINE_AA)
    return box


def caption(image: np.ndarray, lines: Sequence[str], line_height: int = 18) -> np.ndarray:
    """``image`` with lines of text on a dark strip below it."""
    strip = np.zeros((line_height * len(lines) + 8, image.shape[1], 3), dtype=np.uint8)
    for k, line in enumerate(lines):
        cv2.putText(strip, line, (6, line_height * (k + 1)), FONT, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
    return np.concatenate([image, strip], axis=0)
