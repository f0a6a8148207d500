"""``PartWarp``: the training-free, keypoint-driven part-wise warp (the default pose transfer f_P).

For every target pixel it decides where to read in the source (backward warping):

1. each body part gets an affine transform target -> source from the keypoints (``part_fit``);
2. the parts' *coordinates* are blended with soft weights, a Gaussian of the pixel's distance to
   each target part's skeleton with a width relative to body scale (linear-blend skinning), so
   joints bend smoothly;
3. a part shows only within its reach of its target skeleton (how far the part's source pixels
   lie from its source skeleton, rescaled), and a blended sample is kept only if it lands on
   source pixels of a part that carries real weight at that target pixel; otherwise the pixel
   falls back to the rigid transform of the heaviest part whose moved pixels cover it (a limb
   across the torso stays sharp);
4. the person's silhouette in the target pose is the source mask so moved: the kept samples plus
   the moved part extents; pixels inside it that no part could show (self-occlusion in the
   source) take the colour of the nearest shown pixel.

Work is vectorised over pixels (OpenCV remap / warpAffine / distance transforms, NumPy) and
limited to the box the moved person can occupy.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from interorder_rt.keypoints import visible
from interorder_rt.pose.fill import fill_from_nearest
from interorder_rt.pose.part_fit import PartTransform, fit_part_transforms
from interorder_rt.pose.parts import ADJACENT
from interorder_rt.pose.protocol import SourcePerson, check_core_keypoints, check_size
from interorder_rt.pose.skeleton import body_scale, nearest_part, part_distances
from interorder_rt.pose.source_parts import SourceParts, analyse_source

_FAR = np.float32(1e4)  # pixels: farther than any part's blending reaches


def _soft_weights(distances: np.ndarray, width: float) -> np.ndarray:
    """(K, H, W) weights summing to 1 per pixel: softmax of -d^2 / (2 width^2) over the parts.

    Distances are capped at ``_FAR`` pixels, so a pixel no part reaches gets equal weights.
    """
    logits = np.minimum(distances, _FAR) ** 2
    logits -= logits.min(axis=0)
    weights = np.exp(logits * np.float32(-0.5 / width**2))
    weights /= weights.sum(axis=0)
    return weights


def _joint_weights(weights: np.ndarray, distances: np.ndarray, parts: list[int]) -> np.ndarray:
    """``weights`` kept only for the parts joined to each pixel's nearest part, renormalised.

    Blending the coordinates of parts that merely pass close (crossed legs, a hand on the chest)
    would read from between them in the source; only parts sharing a joint bend together.
    """
    adjacent = np.array([[ADJACENT[p][q] for q in parts] for p in parts])  # (K, K)
    joint = weights * np.moveaxis(adjacent[nearest_part(distances)], -1, 0)
    joint /= joint.sum(axis=0)
    return joint


def _person_box(target: np.ndarray, reach: float, height: int, width: int) -> tuple[int, int, int, int] | None:
    """``x0, y0, x1, y1`` of the frame region within ``reach`` of the target keypoints; None if empty."""
    points = target[visible(target)]
    x0, y0 = np.floor(points.min(axis=0) - reach)
    x1, y1 = np.ceil(points.max(axis=0) + reach) + 1
    x0, y0 = int(np.clip(x0, 0, width)), int(np.clip(y0, 0, height))
    x1, y1 = int(np.clip(x1, 0, width)), int(np.clip(y1, 0, height))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _in_box(transforms: list[PartTransform], x0: int, y0: int) -> np.ndarray:
    """(K, 2, 3) float32 matrices taking box pixel coordinates (frame minus ``x0, y0``) to the source."""
    matrices = np.stack([t.matrix for t in transforms])
    matrices[:, :, 2] += matrices[:, :, :2] @ np.array([x0, y0], dtype=np.float64)
    return matrices.astype(np.float32)


class PartWarp:
    """Training-free pose transfer by part-wise affine warping of the source person (see module doc).

    ``blend_width``: width of the blending falloff around each part, as a fraction of the target
    body scale (neck to mid-hip). ``min_blend_weight``: the least weight a part must carry at a
    target pixel for a blended sample landing on that part's source pixels to be kept.
    """

    def __init__(self, blend_width: float = 0.1, min_blend_weight: float = 0.1) -> None:
        if not blend_width > 0:
            raise ValueError(f"blend_width must be positive, got {blend_width}")
        if not 0 < min_blend_weight <= 1:
            raise ValueError(f"min_blend_weight must be in (0, 1], got {min_blend_weight}")
        self.blend_width = float(blend_width)
        self.min_blend_weight = float(min_blend_weight)
        self._cached: tuple[SourcePerson, SourceParts] | None = None

    def source_parts(self, source: SourcePerson) -> SourceParts:
        """The part analysis of ``source``, cached for the last source seen (video reuses it)."""
        if self._cached is None or self._cached[0] is not source:
            self._cached = (source, analyse_source(source))
        return self._cached[1]

    def prepare(self, source: SourcePerson) -> None:
        """Analyse ``source`` now (``PoseTransfer``: the Engine calls it when the source is set)."""
        self.source_parts(source)

    def __call__(
        self, source: SourcePerson, target_keypoints: np.ndarray, size: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``source`` moved into ``target_keypoints`` on an ``(h, w)`` frame -> (rgb uint8, mask bool)."""
        if not isinstance(source, SourcePerson):
            raise TypeError(f"source must be a SourcePerson, got {type(source).__name__}")
        target = check_core_keypoints(target_keypoints, name="target keypoints")
        height, width = check_size(size)
        parts = self.source_parts(source)
        transforms = fit_part_transforms(target, source.keypoints)
        scale_ratio = body_scale(target) / body_scale(source.keypoints)
        reach = parts.reach[[t.source_part for t in transforms]] * scale_ratio + 1
        rgb = np.zeros((height, width, 3), dtype=np.uint8)
        mask = np.zeros((height, width), dtype=bool)
        box = _person_box(target, float(reach.max()), height, width)
        if box is not None:
            x0, y0, x1, y1 = box
            rgb[y0:y1, x0:x1], mask[y0:y1, x0:x1] = self._render(
                parts, transforms, target - np.float32([x0, y0]), reach, _in_box(transforms, x0, y0), (y1 - y0, x1 - x0)
            )
        return rgb, mask

    def _render(
        self, parts: SourceParts, transforms: list[PartTransform], target: np.ndarray, reach: np.ndarray,
        matrices: np.ndarray, size: tuple[int, int],
    ) -> tuple[np.ndarray, np.ndarray]:
        """The moved person on a box of ``size`` whose origin ``target`` and ``matrices`` are relative to."""
        height, width = size
        sigma = self.blend_width * body_scale(target)
        distances = part_distances(target, height, width, margin=math.ceil(3 * sigma))[[t.part for t in transforms]]
        weights = _soft_weights(distances, sigma)  # (K, h, w)
        joint = _joint_weights(weights, distances, [t.part for t in transforms])
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)

        # Blended (skinned) source coordinates, and the part each blended sample lands on.
        blended = (joint.reshape(len(transforms), -1).T @ matrices.reshape(-1, 6)).reshape(height, width, 6)
        map_x = blended[..., 0] * xs + blended[..., 1] * ys + blended[..., 2]
        map_y = blended[..., 3] * xs + blended[..., 4] * ys + blended[..., 5]
        landed = cv2.remap(parts.labels, map_x, map_y, cv2.INTER_NEAREST, borderValue=0)

        # Keep a blended sample where its part weighs enough; note the nearest part covering each pixel.
        blend_ok = np.zeros(size, dtype=bool)
        mask = np.zeros(size, dtype=bool)
        best_weight = np.full(size, -1.0, dtype=np.float32)  # of the heaviest part whose moved pixels cover
        best_part = np.zeros(size, dtype=np.int64)
        flags = cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
        for k, t in enumerate(transforms):
            within = distances[k] <= reach[k]
            label = t.source_part + 1
            blend_ok |= (landed == label) & (joint[k] >= self.min_blend_weight) & within
            covered = within & (cv2.warpAffine(parts.labels, matrices[k], (width, height), flags=flags) == label)
            heavier = covered & (weights[k] > best_weight)
            best_weight[heavier], best_part[heavier] = weights[k][heavier], k
            moved = cv2.warpAffine(parts.extents, matrices[k], (width, height), flags=flags)
            mask |= within & ((moved & np.uint16(1 << t.source_part)) > 0)
        mask |= blend_ok

        # Rejected samples read through the covering part's own transform; the rest are holes.
        rigid = ~blend_ok & (best_weight >= 0)
        m = matrices[best_part[rigid]]
        map_x[rigid] = m[:, 0, 0] * xs[rigid] + m[:, 0, 1] * ys[rigid] + m[:, 0, 2]
        map_y[rigid] = m[:, 1, 0] * xs[rigid] + m[:, 1, 1] * ys[rigid] + m[:, 1, 2]
        rgb = cv2.remap(parts.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

        shown = blend_ok | rigid  # inside the mask: a covering part's pixels lie in its extent
        rgb = fill_from_nearest(rgb, shown, mask & ~shown)
        rgb[~mask] = 0
        return rgb, mask
