"""The full-resolution classical fill under MNet's correction, restricted to the hole's window."""

from __future__ import annotations

import numpy as np

from interorder_rt.completion import CropBox, box_fill, fill_window


def textured(h: int = 120, w: int = 140, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    base = np.stack([xx * 1.5, yy * 2.0, (xx + yy) * 0.8], axis=-1)
    return np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)


def test_a_background_hole_fills_the_same_in_its_window_as_in_the_whole_box():
    image, hole = textured(), np.zeros((120, 140), bool)
    hole[40:70, 50:85] = True
    box = CropBox(0, 0, 140)
    whole, windowed = box_fill(image, ~hole, box), box_fill(image, ~hole, box, hole=hole)
    np.testing.assert_array_equal(windowed[hole[:120, :140]], whole[hole[:120, :140]])


def test_the_window_grows_to_the_box_when_it_holds_no_known_pixel():
    hole, unknown = np.zeros((50, 50), bool), np.ones((50, 50), bool)
    hole[20:25, 20:25] = True
    assert fill_window(hole, unknown) == (0, 0, 50, 50)
    unknown[:, :3] = False
    assert fill_window(hole, unknown) == (0, 0, 50, 50)
    unknown[20, 12] = False
    x0, y0, x1, y1 = fill_window(hole, unknown)
    assert x0 <= 12 < x1 and (x1 - x0, y1 - y0) < (50, 50)


def test_a_coarse_stand_in_beyond_the_band_keeps_the_fill_close():
    image, known = textured(), np.zeros((120, 140), bool)
    known[20:100, 20:60] = True  # the instance's visible part; everything else in the box is unknown
    hole = np.zeros((120, 140), bool)
    hole[30:90, 60:75] = True  # its revealed part, beside it
    box = CropBox(0, 0, 140)
    whole = box_fill(image, known, box)
    coarse = np.zeros((140, 140, 3), np.uint8)
    coarse[:120] = whole  # the stand-in a good coarse fill would give
    banded = box_fill(image, known, box, hole=hole, coarse=coarse)
    gap = np.abs(banded[hole].astype(int) - whole[hole].astype(int))
    assert gap.mean() < 1.0 and gap.max() <= 8


def test_instance_holes_and_boxes_found_within_the_boxes_equal_the_whole_frame_ones():
    from interorder_rt.completion import INSTANCE_MARGIN, _holes, square_around, square_box

    rng = np.random.default_rng(0)
    for _ in range(100):
        visible, amodal = rng.random((3, 40, 50)) < 0.05, rng.random((3, 40, 50)) < 0.05
        visible[rng.integers(3)] = False
        amodal[0] = visible[0]  # no hole
        holes, tight = _holes(visible, amodal)
        np.testing.assert_array_equal(holes, amodal & ~visible)
        assert tight[0] is None
        for n in (1, 2):
            if holes[n].any():
                assert square_around(tight[n], INSTANCE_MARGIN) == square_box(amodal[n] | visible[n], INSTANCE_MARGIN)
