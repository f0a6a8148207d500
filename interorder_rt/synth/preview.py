"""Pictures of synthetic scenes for people: the image, the masks, and the order graph."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from interorder_rt.synth.scene import Scene

# Distinct instance colours (RGB), reused cyclically.
PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
           (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 190), (0, 128, 128), (170, 110, 40))
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def instance_colour(k: int) -> tuple[int, int, int]:
    return PALETTE[k % len(PALETTE)]


def _centroid(mask: np.ndarray) -> tuple[int, int]:
    moments = cv2.moments(mask.view(np.uint8), binaryImage=True)
    if moments["m00"] == 0:
        return mask.shape[1] // 2, mask.shape[0] // 2
    return int(round(moments["m10"] / moments["m00"])), int(round(moments["m01"] / moments["m00"]))


def _label(image: np.ndarray, text: str, origin: tuple[int, int], colour, scale: float = 0.4) -> None:
    """Text with a dark outline, readable on any background."""
    cv2.putText(image, text, origin, _FONT, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(image, text, origin, _FONT, scale, colour, 1, cv2.LINE_AA)


def draw_masks(scene: Scene) -> np.ndarray:
    """The image dimmed, each instance's visible part tinted in its colour and its hidden part
    (amodal minus modal) hatched in its colour; outlines of both."""
    out = (scene.image.astype(np.float32) * 0.45).astype(np.uint8)
    ys, xs = np.mgrid[:scene.height, :scene.width]
    hatch = ((xs + ys) // 3) % 3 == 0
    for k, inst in enumerate(scene.instances):
        colour = np.array(instance_colour(k), dtype=np.float32)
        out[inst.modal] = (out[inst.modal] * 0.45 + colour * 0.55).astype(np.uint8)
    for k, inst in enumerate(scene.instances):
        hidden = inst.amodal & ~inst.modal
        out[hidden & hatch] = instance_colour(k)
        for mask, thickness in ((inst.amodal, 1), (inst.modal, 1)):
            contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, instance_colour(k), thickness, cv2.LINE_AA)
    for k, inst in enumerate(scene.instances):
        x, y = _centroid(inst.modal)
        _label(out, str(k), (x - 4, y + 4), (255, 255, 255))
    return out


def draw_order(scene: Scene) -> np.ndarray:
    """The image faded, one node per instance at its visible centroid (index, P/O for person or
    object, and "d" paint rank below), and an arrow from the front instance to the back one for
    every ordered pair."""
    out = (scene.image.astype(np.float32) * 0.35 + 255 * 0.65).astype(np.uint8)
    centres = [_centroid(inst.modal) for inst in scene.instances]
    radius = max(7, scene.width // 22)
    for i, j in zip(*np.nonzero(scene.order == 1)):
        (x0, y0), (x1, y1) = centres[i], centres[j]
        length = max(float(np.hypot(x1 - x0, y1 - y0)), 1.0)
        shrink = min(radius / length, 0.45)  # start and end on the node circles
        start = (int(x0 + (x1 - x0) * shrink), int(y0 + (y1 - y0) * shrink))
        end = (int(x1 - (x1 - x0) * shrink), int(y1 - (y1 - y0) * shrink))
        cv2.arrowedLine(out, start, end, instance_colour(int(i)), 2, cv2.LINE_AA, tipLength=min(0.35, 10 / length))
    for k, (x, y) in enumerate(centres):
        cv2.circle(out, (x, y), radius, instance_colour(k), -1, cv2.LINE_AA)
        cv2.circle(out, (x, y), radius, (40, 40, 40), 1, cv2.LINE_AA)
        kind = "P" if scene.instances[k].category == "person" else "O"
        light = sum(c * w for c, w in zip(instance_colour(k), (0.3, 0.59, 0.11))) > 150
        cv2.putText(out, f"{k}{kind}", (x - radius + 2, y + 4), _FONT, 0.36, (0, 0, 0) if light else (255, 255, 255),
                    1, cv2.LINE_AA)
        cv2.putText(out, f"d{int(scene.depth[k])}", (x - radius + 2, y + radius + 11), _FONT, 0.36, (30, 30, 30), 1,
                    cv2.LINE_AA)
    return out


def _caption(panel: np.ndarray, text: str) -> np.ndarray:
    """``panel`` with ``text`` on a dark band along its top."""
    panel = panel.copy()
    panel[:20] = (panel[:20].astype(np.float32) * 0.3).astype(np.uint8)
    cv2.putText(panel, text, (5, 14), _FONT, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return panel


def scene_row(scene: Scene, title: str) -> np.ndarray:
    """(H, 3W + 8, 3): image | masks (hidden parts hatched) | order graph, with 4-pixel gaps."""
    gap = np.full((scene.height, 4, 3), 255, dtype=np.uint8)
    pairs = int((scene.order == 1).sum())
    panels = [_caption(scene.image, title), _caption(draw_masks(scene), f"{scene.n} instances"),
              _caption(draw_order(scene), f"{pairs} ordered pairs (front -> back)")]
    return np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1)


def preview_grid(scenes: Sequence[Scene], titles: Sequence[str], columns: int = 2) -> np.ndarray:
    """A grid of scene rows, ``columns`` scenes side by side, white margins between them."""
    if not scenes:
        raise ValueError("preview_grid needs at least one scene")
    rows = [scene_row(scene, title) for scene, title in zip(scenes, titles)]
    h, w = rows[0].shape[:2]
    if any(row.shape[:2] != (h, w) for row in rows):
        raise ValueError("all scenes of a preview grid must have the same size")
    n_rows = -(-len(rows) // columns)
    grid = np.full((n_rows * (h + 8) + 8, columns * (w + 16) + 8, 3), 255, dtype=np.uint8)
    for k, row in enumerate(rows):
        r, c = divmod(k, columns)
        y, x = 8 + r * (h + 8), 8 + c * (w + 16)
        grid[y:y + h, x:x + w] = row
    return grid
