"""Only what stays in sight is filled: hole pixels under an opaque new person cost no fill, and
the output is the same pixel for pixel (``compose.sight``)."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt import _ext
from interorder_rt import engine as engine_module
from interorder_rt.compose import Layer, plan_removal
from interorder_rt.compose.exemplar import exemplar_fill
from interorder_rt.compose.sight import covered, in_sight, meet_within, with_unseen
from interorder_rt.synth import make_transfer_pair

needs_core = pytest.mark.skipif(_ext.compiled() is None, reason="the compiled core is not built")


def _textured(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    stripes = (127 + 100 * np.sin(x / 3.0 + y / 7.0))[..., None]
    return np.clip(stripes + rng.integers(-30, 31, (h, w, 3)), 0, 255).astype(np.uint8)


@needs_core
def test_the_shown_pixels_of_a_fill_equal_the_whole_fill_and_the_rest_keep_their_colours():
    image = _textured(120, 160, 0)
    hole = np.zeros((120, 160), bool)
    hole[20:100, 50:110] = True
    shown = np.ones_like(hole)
    shown[30:90, 60:100] = False  # a new person covers the middle of the hole
    whole = exemplar_fill(image, hole)
    part = exemplar_fill(image, hole, shown=shown)
    np.testing.assert_array_equal(part[hole & shown], whole[hole & shown])
    np.testing.assert_array_equal(part[~shown], image[~shown])
    np.testing.assert_array_equal(exemplar_fill(image, hole, shown=~hole), image)  # nothing in sight: nothing to do


@needs_core
def test_a_shown_plane_of_the_wrong_shape_is_refused():
    image = _textured(40, 40, 1)
    hole = np.zeros((40, 40), bool)
    hole[10:30, 10:30] = True
    with pytest.raises(ValueError, match="shown"):
        _ext.compiled().patchmatch_fill(image, hole, ~hole, shown=np.ones((40, 39), bool))


def test_only_a_wholly_opaque_pixel_inside_its_layer_box_covers():
    h, w = 20, 30
    alpha = np.zeros((h, w), np.uint8)
    alpha[5:15, 5:25] = 255
    alpha[5:15, 5] = 254  # an edge pixel blends: what lies below shows through
    mask = alpha > 0
    layer = Layer(np.zeros((h, w, 3), np.uint8), mask, alpha, box=(0, 0, 20, h))  # nothing right of x = 20
    out = covered([layer], (0, 0, w, h), mask)
    expected = alpha == 255
    expected[:, 20:] = False
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(covered([Layer(np.zeros((h, w, 3), np.uint8), mask)], (2, 3, 12, 13), mask),
                                  mask[3:13, 2:12])  # no alpha: the mask covers


def test_a_revealed_part_counts_as_seen_unless_a_new_person_painted_after_it_covers_it():
    h, w = 40, 60
    modal = np.zeros((3, h, w), bool)
    modal[0, 10:30, 10:30] = True  # replaced person t1, in front of instance 1
    modal[1, 10:30, 28:40] = True  # instance 1, hidden behind t1 on x 20..28
    modal[2, 0:40, 40:60] = True  # replaced person t2, painted first of all
    amodal = modal.copy()
    amodal[1, 10:30, 20:40] = True
    layering = [2, 1, 0]
    plan = plan_removal(modal, amodal, layering, [0, 2])
    assert plan.needs_completion() == [1]
    over = np.zeros((h, w), bool)
    over[:, 15:30] = True  # a new person over instance 1's revealed part
    blank = np.zeros((h, w, 3), np.uint8)
    none = Layer(blank, np.zeros((h, w), bool))
    # the new t2 is painted before instance 1: its pixels hide nothing of it
    seen, shown = in_sight(plan, {0: none, 2: Layer(blank, over)}, layering)
    assert seen == [1]
    np.testing.assert_array_equal(shown, plan.background & ~over)
    seen, shown = in_sight(plan, {0: Layer(blank, over), 2: none}, layering)
    assert seen == []
    np.testing.assert_array_equal(shown, plan.background & ~over)
    np.testing.assert_array_equal(with_unseen(plan.background, plan, []), plan.background | plan.revealed[1])
    assert with_unseen(plan.background, plan, [1]) is plan.background


def test_meet_within_looks_for_a_shared_pixel_in_the_box_only():
    a, b = np.zeros((20, 30), bool), np.zeros((20, 30), bool)
    a[5:10, 5:15], b[8:12, 12:20] = True, True  # they share rows 8..9, columns 12..14
    assert meet_within(a, b, (0, 0, 30, 20)) and meet_within(a, b, (12, 8, 13, 9))
    assert not meet_within(a, b, (0, 0, 12, 20))  # the shared pixels lie outside this box
    assert not meet_within(a, ~a, (0, 0, 30, 20)) and not meet_within(a, b, None)


class _Cover:
    """A pose stage that places an opaque block over the whole replaced person's box and more."""

    def __init__(self, box):
        self.box = box

    def __call__(self, source, keypoints, size):
        x0, y0, x1, y1 = self.box
        rgb, mask = np.zeros((*size, 3), np.uint8), np.zeros(size, bool)
        rgb[y0:y1, x0:x1] = (20, 200, 40)
        mask[y0:y1, x0:x1] = True
        return rgb, mask


def _whole_fills(monkeypatch) -> None:
    """The engine as before ``compose.sight``: every revealed region and the whole hole filled."""
    monkeypatch.setattr(engine_module, "in_sight",
                        lambda plan, people, layering: (plan.needs_completion(), plan.background | True))


@pytest.fixture(scope="module")
def scene():
    return make_transfer_pair(3, setting="persons", height=192, width=192)


def _engine(pair, pose=None):
    engine = engine_module.Engine(pose=pose)
    src, x = pair.source, pair.source_index
    engine.set_source(src.image, keypoints=src.instances[x].keypoints, masks=src.modal, index=x)
    return engine


def _frame(pair):
    ref, y = pair.reference, pair.reference_index
    return dict(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints)


def test_filling_only_what_stays_in_sight_changes_no_output_pixel(scene, monkeypatch):
    engine = _engine(scene)
    fast = engine.run(**_frame(scene)).image
    _whole_fills(monkeypatch)
    np.testing.assert_array_equal(fast, engine.run(**_frame(scene)).image)


def test_a_new_person_covering_the_whole_hole_costs_no_fill(scene, monkeypatch):
    ref, y = scene.reference, scene.reference_index
    ys, xs = np.flatnonzero(ref.modal[y].any(1)), np.flatnonzero(ref.modal[y].any(0))
    engine = _engine(scene, _Cover((xs[0] - 4, ys[0] - 4, xs[-1] + 5, ys[-1] + 5)))
    calls = []
    for name in ("fill_background", "complete_many"):
        method = getattr(engine.completion, name)
        monkeypatch.setattr(engine.completion, name, lambda *a, _m=method, _n=name, **k: calls.append(_n) or _m(*a, **k))
    fast = engine.run(**_frame(scene)).image
    assert calls == []
    _whole_fills(monkeypatch)
    np.testing.assert_array_equal(fast, engine.run(**_frame(scene)).image)
    assert "fill_background" in calls
