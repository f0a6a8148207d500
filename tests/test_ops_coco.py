"""Areas, unions, intersections and IoU agree with pycocotools' RLE implementation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from pycocotools import mask as coco

from interorder_rt.ops import MaskSet

# pycocotools' decode still passes copy=False to NumPy 2's __array__; harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def instance_masks(seed: int, n: int, h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros((n, h, w), np.uint8)
    for k in range(n - 1):  # the last one stays empty
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        axes = (int(rng.integers(1, w // 2 + 2)), int(rng.integers(1, h // 2 + 2)))
        cv2.ellipse(out[k], centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return out.astype(bool)


def encode(masks: np.ndarray) -> list[dict]:
    return coco.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))


@pytest.mark.parametrize("n,h,w", [(6, 40, 63), (12, 97, 130), (20, 64, 64)])
def test_agrees_with_pycocotools(n, h, w):
    masks = instance_masks(n + h + w, n, h, w)
    ms, rles = MaskSet(masks), encode(masks)

    np.testing.assert_array_equal(ms.areas(), coco.area(rles))

    pick = [0, 2, n - 1]
    np.testing.assert_array_equal(ms.union(pick), coco.decode(coco.merge([rles[k] for k in pick])))
    np.testing.assert_array_equal(ms.intersection(pick[:2]),
                                  coco.decode(coco.merge([rles[k] for k in pick[:2]], intersect=True)))

    inter = ms.intersection_matrix().astype(np.float64)
    areas = ms.areas().astype(np.float64)
    union = areas[:, None] + areas[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    np.testing.assert_array_equal(iou, coco.iou(rles, rles, [0] * n))
