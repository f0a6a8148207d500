"""The PatchMatch exemplar fill: only the hole changes, patches come only from the allowed pixels,
textures are continued, and awkward holes (frame border, most of the frame, no source) work."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from interorder_rt import _ext
from interorder_rt.completion import ContentCompletion
from interorder_rt.compose.exemplar import (
    MAX_PARTS, ExemplarOptions, context_box, exemplar_fill, fill_regions, matched_as_hole, padded,
)

pytestmark = pytest.mark.skipif(_ext.compiled() is None, reason="compiled core not built")


def stripes(h: int = 96, w: int = 128, period: int = 8) -> np.ndarray:
    """Vertical stripes: a texture a patch copy reproduces exactly and a smooth fill cannot."""
    x = np.arange(w)
    row = np.where(x % period < period // 2, 40, 210).astype(np.uint8)
    return np.repeat(np.repeat(row[None, :, None], h, axis=0), 3, axis=2).copy()


def disc(h: int, w: int, cy: int, cx: int, r: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return (y - cy) ** 2 + (x - cx) ** 2 <= r * r


def psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    mse = np.mean((a[where].astype(np.float64) - b[where]) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def test_only_hole_pixels_change_and_stripes_are_continued():
    image = stripes()
    hole = disc(96, 128, 48, 64, 20)
    damaged = image.copy()
    damaged[hole] = 0
    out = exemplar_fill(damaged, hole)
    np.testing.assert_array_equal(out[~hole], damaged[~hole])
    assert psnr(out, image, hole) > 30  # a smear of the stripes would be near 10 dB


def test_patches_come_only_from_the_source():
    image = np.zeros((80, 120, 3), np.uint8)
    image[:, :60] = (200, 30, 30)  # allowed
    image[:, 60:] = (30, 30, 200)  # avoided, right next to the hole
    hole = np.zeros((80, 120), bool)
    hole[20:60, 45:75] = True
    out = exemplar_fill(image, hole, avoid=~hole & (np.arange(120) >= 60)[None, :])
    assert (out[hole] == (200, 30, 30)).all()


def test_an_instance_is_completed_from_its_own_pixels_only():
    image = np.zeros((90, 90, 3), np.uint8)
    image[:] = (20, 160, 20)  # background
    amodal = np.zeros((90, 90), bool)
    amodal[15:75, 20:70] = True
    image[amodal] = (220, 200, 40)
    visible = amodal.copy()
    visible[40:75, 20:70] = False  # the lower part is hidden
    image[~visible & amodal] = (0, 0, 255)  # an occluder's colour
    out = ContentCompletion(background="exemplar", instance="exemplar").complete(image, visible, amodal)
    assert (out[amodal & ~visible] == (220, 200, 40)).all()
    np.testing.assert_array_equal(out[~(amodal & ~visible)], image[~(amodal & ~visible)])


def test_same_seed_same_pixels():
    image = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    hole = disc(64, 64, 30, 30, 12)
    a, b = exemplar_fill(image, hole), exemplar_fill(image, hole)
    np.testing.assert_array_equal(a, b)


def test_hole_touching_the_frame_border():
    image = stripes(64, 96)
    hole = np.zeros((64, 96), bool)
    hole[:30, :25] = True  # the top-left corner
    out = exemplar_fill(image, hole)
    assert np.mean(out[hole] == image[hole]) > 0.8  # the stripes go on (a column may slip at a seam)


def test_hole_larger_than_half_the_frame():
    image = stripes(64, 96)
    hole = np.zeros((64, 96), bool)
    hole[:, 10:70] = True  # 62 % of the frame
    out = exemplar_fill(image, hole)
    assert out[hole].std() > 40  # textured, not a flat smear
    np.testing.assert_array_equal(out[~hole], image[~hole])


def test_no_whole_patch_in_the_source_falls_back_to_a_smooth_fill():
    image = np.full((40, 40, 3), 90, np.uint8)
    hole = np.ones((40, 40), bool)
    hole[0, 0] = False  # one known pixel: no patch fits anywhere
    out = exemplar_fill(image, hole)
    assert out.shape == image.shape
    np.testing.assert_array_equal(out[0, 0], image[0, 0])


def test_kernel_rejects_bad_input():
    core = _ext.compiled()
    image = np.zeros((20, 20, 3), np.uint8)
    hole = np.zeros((20, 20), bool)
    with pytest.raises(ValueError, match="hole must have shape"):
        core.patchmatch_fill(image, hole[:10], hole)
    with pytest.raises(TypeError, match="dtype bool or uint8"):
        core.patchmatch_fill(image, hole.astype(np.float32), hole)
    with pytest.raises(ValueError, match="patch_size"):
        core.patchmatch_fill(image, hole, ~hole, patch_size=4)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        core.patchmatch_fill(np.zeros((20, 20, 4), np.uint8), hole, ~hole)


def test_options_change_the_schedule_not_the_contract():
    image = stripes()
    hole = disc(96, 128, 48, 64, 16)
    for options in (ExemplarOptions(iterations=2, finest_iterations=1), ExemplarOptions(context=1.0, seed=3)):
        out = exemplar_fill(image, hole, options=options)
        np.testing.assert_array_equal(out[~hole], image[~hole])
        assert np.mean(out[hole] == image[hole]) > 0.8


def test_a_hole_in_far_parts_is_filled_part_by_part():
    """Each far part is filled in its own region, exactly as if it were the only hole; parts whose
    regions meet are filled together, in the region of their union."""
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (120, 400, 3), dtype=np.uint8)
    left, right = disc(120, 400, 60, 60, 10), disc(120, 400, 60, 330, 12)
    x0, y0, x1, y1 = 40, 40, 345, 73
    assert sorted(fill_regions((left | right)[y0:y1, x0:x1], (x0, y0), 0.25, 24, 120, 400)) == [
        context_box((50, 50, 71, 71), 0.25, 24, 120, 400), context_box((318, 48, 343, 73), 0.25, 24, 120, 400)]
    apart = exemplar_fill(image, left | right)
    alone = exemplar_fill(exemplar_fill(image, left), right)
    np.testing.assert_array_equal(apart, alone)
    near = disc(120, 400, 60, 95, 10)
    assert fill_regions((left | near)[40:81, 50:106], (50, 40), 0.25, 24, 120, 400) == [
        context_box((50, 50, 106, 71), 0.25, 24, 120, 400)]


def test_a_part_no_patch_fits_sends_the_whole_hole_to_the_fallbacks():
    image = stripes(96, 400)
    left, right = disc(96, 400, 48, 40, 10), disc(96, 400, 48, 340, 10)
    avoid = np.zeros((96, 400), bool)
    avoid[:, 280:] = True  # nothing to copy near the right part: its region has no patch
    out = exemplar_fill(image, left | right, avoid=avoid)
    assert psnr(out, image, left | right) > 30  # both filled, from the stripes further off


def test_an_instance_beside_the_hole_does_not_pull_the_background_towards_its_colours():
    """A dark instance before a yellow wall, grey stairs below: matched against the instance's
    colours, or started from them, the fill beside it turns grey (a halo: 16.7 levels of mean
    error before the instance's pixels near the hole were matched as hole, 8.4 while the onion
    peel still started from them); only the hole is written."""
    image = np.zeros((96, 160, 3), np.uint8)
    image[:60] = (200, 180, 100)
    image[60:] = np.where((np.arange(60, 96) // 4 % 2 == 0)[:, None, None], 80, 115)
    instance = np.zeros((96, 160), bool)
    instance[:60, 40:60] = True
    image[instance] = (90, 20, 40)
    hole = np.zeros((96, 160), bool)
    hole[10:50, 60:80] = True
    damaged = image.copy()
    damaged[hole] = 0
    out = exemplar_fill(damaged, hole, avoid=instance)
    np.testing.assert_array_equal(out[~hole], damaged[~hole])
    assert np.abs(out[hole].astype(int) - (200, 180, 100)).mean() < 4


def test_a_context_band_the_frame_edge_cuts_off_goes_to_the_other_side():
    assert context_box((100, 100, 140, 180), 0.25, 8, 400, 600) == padded((100, 100, 140, 180), 0.25, 8, 400, 600)
    assert context_box((560, 100, 600, 180), 0.25, 8, 400, 600) == (520, 80, 600, 200)  # 20 px more on the left
    assert context_box((0, 0, 40, 80), 0.25, 8, 400, 600) == (0, 0, 80, 120)
    assert context_box((10, 10, 590, 390), 0.25, 8, 400, 600) == (0, 0, 600, 400)  # no room: the frame
    rng = np.random.default_rng(0)
    for _ in range(200):
        h, w = rng.integers(20, 300, 2)
        x0, y0 = rng.integers(0, w - 1), rng.integers(0, h - 1)
        box = (int(x0), int(y0), int(rng.integers(x0 + 1, w + 1)), int(rng.integers(y0 + 1, h + 1)))
        got, cut = context_box(box, 0.25, 8, h, w), padded(box, 0.25, 8, h, w)
        pad = max(int(np.ceil(0.25 * max(box[2] - box[0], box[3] - box[1]))), 8)
        assert got[0] <= cut[0] and got[1] <= cut[1] and got[2] >= cut[2] and got[3] >= cut[3]
        assert 0 <= got[0] and 0 <= got[1] and got[2] <= w and got[3] <= h
        assert got[2] - got[0] == min(box[2] - box[0] + 2 * pad, w)
        assert got[3] - got[1] == min(box[3] - box[1] + 2 * pad, h)


def test_a_hole_at_the_frame_edge_beside_an_instance_is_filled_from_the_ground_it_stood_on():
    """A person removed at the right edge of a photo, fog above snow, another person beside it in
    the snow: with its context band cut by the edge, the fill's region held snow only under that
    person (avoided), and the whole hole came back as fog (0 % of its lower part snow-coloured)."""
    rng = np.random.default_rng(0)
    h, w, horizon = 240, 320, 150
    image = np.empty((h, w, 3), np.uint8)
    fog = cv2.GaussianBlur(rng.normal(150, 25, (h, w)).astype(np.float32), (0, 0), 2)
    image[:horizon] = np.clip(fog[:horizon, :, None] * [0.9, 1.0, 1.12], 0, 255)
    image[horizon:] = np.clip(rng.normal(240, 4, (h - horizon, w, 1)), 0, 255)
    hole, person = np.zeros((h, w), bool), np.zeros((h, w), bool)
    hole[40:220, 280:] = True
    person[140:, 225:280] = True
    image[person] = (30, 60, 200)
    out = exemplar_fill(image, hole, avoid=person)
    lower = hole & (np.arange(h) >= horizon)[:, None]
    colours = out[lower].astype(float)
    snowy = np.linalg.norm(colours - 240, axis=1) < np.linalg.norm(colours - (135, 150, 168), axis=1)
    assert snowy.mean() > 0.4


def test_avoided_specks_in_a_ground_keep_it_on_the_coarse_levels():
    """Grass above a dirt strip, a hole across both, avoided pixels strewn over the dirt every 8 px
    (the ragged outline of an instance, the grown margin of a removed person): whole dirt patches
    exist at full size, but when a coarse pixel was source only if all four of its pixels were,
    every level kept the specks and no dirt patch was left, and the whole hole came back grass
    (0 % dirt; the catcher of 000000196141.jpg, 91 % of his lower half). A coarse pixel is now
    source when half its pixels are."""
    rng = np.random.default_rng(0)
    h, w, edge = 240, 320, 150
    grass = cv2.GaussianBlur(rng.normal(0, 30, (h, w)).astype(np.float32), (0, 0), 1)
    image = np.clip(grass[:, :, None] + [60, 130, 50], 0, 255).astype(np.uint8)
    image[edge:] = np.clip(rng.normal(0, 8, (h - edge, w, 1)) + [215, 190, 150], 0, 255)
    hole, specks = np.zeros((h, w), bool), np.zeros((h, w), bool)
    hole[60:220, 110:210] = True
    specks[edge::8, ::8] = True
    specks &= ~hole
    image[specks] = (30, 40, 160)
    out = exemplar_fill(image, hole, avoid=specks)
    colours = out[hole & (np.arange(h) >= edge + 8)[:, None]].astype(float)
    dirt = np.linalg.norm(colours - (215, 190, 150), axis=1) < np.linalg.norm(colours - (60, 130, 50), axis=1)
    assert dirt.mean() > 0.9
    assert not (out[hole] == (30, 40, 160)).all(axis=1).any()


def test_the_device_path_matches_the_same_instance_pixels_as_hole():
    from interorder_rt.backends.device_memory import TensorArrays

    rng = np.random.default_rng(5)
    region, avoid = rng.random((60, 80)) > 0.97, rng.random((60, 80)) > 0.5
    for reach in (1, 6, 12):
        want = matched_as_hole(region, avoid, reach)
        got = matched_as_hole(torch.from_numpy(region), torch.from_numpy(avoid), reach, TensorArrays).numpy()
        np.testing.assert_array_equal(got, want)
        assert (want >= region).all() and not (want & ~region & ~avoid).any()


def test_a_hole_in_more_parts_than_max_parts_is_one_region():
    hole = np.zeros((200, 300), bool)
    hole[10:190:10, 10:290:40] = True  # 18 x 7 single pixels, far apart
    assert np.count_nonzero(hole) > MAX_PARTS
    x0, y0, x1, y1 = 10, 10, 251, 181
    assert fill_regions(hole[y0:y1, x0:x1], (x0, y0), 0.25, 24, 200, 300) == [context_box((x0, y0, x1, y1), 0.25, 24, 200, 300)]
    out = exemplar_fill(stripes(200, 300), hole)
    np.testing.assert_array_equal(out[~hole], stripes(200, 300)[~hole])
