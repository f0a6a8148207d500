"""The fringe fill of what an instance's memory lacks: from the instance's known pixels only, rings deep at most."""

from __future__ import annotations

import numpy as np

from interorder_rt.compose.fringe import MAX_RINGS, fringe_fill


def test_a_fringe_takes_the_instance_colours_around_it_and_nothing_else():
    rgb = np.full((20, 30, 3), 200, np.uint8)  # the background around the instance
    known = np.zeros((20, 30), bool)
    known[:, :15] = True
    rgb[known] = (50, 60, 70)
    hole = np.zeros_like(known)
    hole[5:15, 13:17] = True  # two columns inside the instance, two beside it, next to the background
    out = fringe_fill(rgb, known & ~hole, hole)
    assert (out[hole] == (50, 60, 70)).all()
    np.testing.assert_array_equal(out[~hole], rgb[~hole])


def test_a_smooth_instance_stays_smooth_across_the_fringe():
    ramp = np.repeat(np.linspace(0, 250, 40)[None, :, None], 3, axis=2).repeat(10, axis=0).astype(np.uint8)
    known = np.ones((10, 40), bool)
    hole = np.zeros_like(known)
    hole[3:7, 18:22] = True
    out = fringe_fill(ramp, known & ~hole, hole)
    assert np.abs(out[hole].astype(int) - ramp[hole]).max() <= 13  # within a step or two of the ramp


def test_a_hole_too_deep_for_a_fringe_is_refused():
    rgb = np.zeros((60, 60, 3), np.uint8)
    known = np.ones((60, 60), bool)
    hole = np.zeros_like(known)
    hole[5:55, 5:55] = True  # its middle lies 25 rings deep
    assert 25 > MAX_RINGS and fringe_fill(rgb, known & ~hole, hole) is None
    assert fringe_fill(rgb, np.zeros_like(known), hole) is None  # nothing known to fill from
