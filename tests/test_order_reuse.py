"""A stream reuses ORNet's order while its instances stand still or move as a whole, and recovers it
again once they change, or meet or part."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from interorder_rt.compose import OrderReuse
from interorder_rt.ops.maskset import MaskSet
from interorder_rt.ops.order import OrderResult


def masks_at(shift: int = 0) -> np.ndarray:
    masks = np.zeros((2, 40, 60), bool)
    masks[0, 5:30, 5 + shift : 25 + shift] = True
    masks[1, 10:35, 20:45] = True
    return masks


def cues(masks: np.ndarray) -> tuple:
    """What a stream passes with the masks: tight boxes, areas, the bordering matrix."""
    maskset = MaskSet(masks)
    return maskset.boxes(), maskset.areas(), maskset.bordering_matrix()


def result_for(masks: np.ndarray) -> OrderResult:
    amodal = masks.copy()
    amodal[0, 5:30, 5:45] = True  # instance 0 continues behind instance 1
    z = np.zeros((2, 2), np.float32)
    return OrderResult(order=z.astype(np.int8), growth=z, layering=np.arange(2), amodal=amodal)


def test_the_anchor_order_comes_back_for_still_masks_and_not_for_changed_ones():
    reuse, masks = OrderReuse(), masks_at()
    assert reuse.recall(masks, [4, 7], *cues(masks)) is None  # nothing kept yet
    kept = result_for(masks)
    reuse.keep(masks, [4, 7], *cues(masks), kept)
    assert not kept.amodal.flags.writeable  # held as it is, not copied: no one may change it now
    again = reuse.recall(masks.copy(), [4, 7], *cues(masks))
    np.testing.assert_array_equal(again.amodal, kept.amodal)
    assert again.layering is kept.layering and reuse.reused == 1
    assert reuse.recall(masks, [7, 4], *cues(masks)) is None  # other instances
    nudged = masks_at()
    nudged[0, 29, 5] = False  # one pixel of 500: IoU 0.998, still
    assert reuse.recall(nudged, [4, 7], *cues(nudged)) is not None
    grown = masks_at()
    grown[0, 30:35, 5:25] = True  # 100 more pixels: it changed
    assert reuse.recall(grown, [4, 7], *cues(grown)) is None


def test_an_instance_moved_as_a_whole_takes_its_completion_along():
    reuse, masks = OrderReuse(), masks_at()
    kept = result_for(masks)
    reuse.keep(masks, [4, 7], *cues(masks), kept)
    moved = masks_at(shift=3)  # instance 0 moved 3 px right, still under instance 1
    again = reuse.recall(moved, [4, 7], *cues(moved))
    assert again is not None and again.layering is kept.layering
    expected = np.zeros_like(kept.amodal)
    expected[0, 5:30, 8:48] = True  # its completion moved with it
    expected[1] = masks[1]
    np.testing.assert_array_equal(again.amodal, expected | moved)
    apart = masks_at(shift=-5)
    apart[1] = np.roll(apart[1], 2, axis=1)  # both moved: they no longer touch, a pair ORNet judged
    assert not cues(apart)[2][0, 1]
    assert reuse.recall(apart, [4, 7], *cues(apart)) is None


def _panned(plane: np.ndarray, dx: int) -> np.ndarray:
    """``plane`` (H, W[, C]) seen by a camera panned ``dx`` pixels left: the view moves right, zeros come in."""
    out = np.zeros_like(plane)
    out[:, dx:] = plane[:, : plane.shape[1] - dx]
    return out


@pytest.mark.parametrize("camera", ["still", "panning"])
def test_engine_stream_runs_ornet_once_on_still_or_panned_masks_with_the_same_output(camera):
    from interorder_rt.engine import Engine
    from interorder_rt.order_recovery import OrderRecovery
    from interorder_rt.synth import make_transfer_pair

    pair = make_transfer_pair(31, setting="persons", height=144, width=256)
    ref, y = pair.reference, pair.reference_index
    rng = np.random.default_rng(0)
    frames = []
    for k in range(3):
        dx = 2 * k if camera == "panning" else 0
        image = np.clip(ref.image + rng.integers(-2, 3, ref.image.shape), 0, 255).astype(np.uint8)
        frames.append(dict(image=_panned(image, dx), masks=np.stack([_panned(m, dx) for m in ref.modal]), target=y,
                           keypoints=ref.instances[y].keypoints + np.float32([dx, 0]),
                           instance_ids=[i.instance_id for i in ref.instances]))
    ornet = OrderRecovery()

    class Counted:
        """ORNet behind a wrapper that does not say it ignores the image: no reuse."""

        calls = 0

        def __call__(self, *args, **kwargs):
            Counted.calls += 1
            return ornet(*args, **kwargs)

    forward, passes = ornet._forward, {}
    outputs = {}
    for name, order in (("reuse", ornet), ("fresh", Counted())):
        engine = Engine(order=order)
        src, x = pair.source, pair.source_index
        engine.set_source(src.image, keypoints=src.instances[x].keypoints, masks=src.modal, index=x)
        count = []
        ornet._forward = lambda *a, count=count: count.append(1) or forward(*a)
        outputs[name] = [r.image for r in engine.stream(frames, memory=None)]
        passes[name] = len(count)
    assert Counted.calls >= 3 and passes["reuse"] * 3 == passes["fresh"]  # the first frame's passes only
    for a, b in zip(outputs["reuse"], outputs["fresh"]):
        np.testing.assert_array_equal(a, b)


def test_the_anchor_keeps_box_crops_and_serves_torch_masks_alike():
    masks, moved = masks_at(), masks_at(shift=3)
    for as_array in (np.asarray, torch.from_numpy):
        kept = result_for(masks)
        reuse = OrderReuse()
        reuse.keep(as_array(masks), [1, 2], *cues(masks), replace(kept, amodal=as_array(kept.amodal)))
        again = reuse.recall(as_array(masks.copy()), [1, 2], *cues(masks))
        np.testing.assert_array_equal(np.asarray(again.amodal), kept.amodal)
        followed = reuse.recall(as_array(moved), [1, 2], *cues(moved))
        assert followed.amodal[0, 5:30, 8:48].all() and not followed.amodal[0, :, :8].any()
        shrunk = masks.copy()
        shrunk[1, 10:35, 20:30] = False  # instance 1 lost 40 % of its pixels
        assert reuse.recall(as_array(shrunk), [1, 2], *cues(shrunk)) is None


def _joined_over_whole_frames(masks, amodal, shifts, now):
    """The reference: each whole-frame completion (amodal beyond modal) moved by its shift, then
    OR-ed with the mask of now."""
    h, w = masks.shape[1:]
    out = now.copy()
    for k, (dx, dy) in enumerate(shifts):
        beyond = amodal[k] & ~masks[k]
        ys, xs = np.nonzero(beyond)
        keep = (ys + dy >= 0) & (ys + dy < h) & (xs + dx >= 0) & (xs + dx < w)
        out[k, ys[keep] + dy, xs[keep] + dx] = True
    return out


@pytest.mark.parametrize("as_array", [np.asarray, torch.from_numpy])
def test_a_reused_completion_in_its_box_equals_the_whole_frame_rule(as_array):
    rng = np.random.default_rng(3)
    for _ in range(60):
        n, h, w = int(rng.integers(1, 4)), int(rng.integers(10, 40)), int(rng.integers(10, 40))
        masks, amodal = np.zeros((n, h, w), bool), np.zeros((n, h, w), bool)
        for k in range(n):
            y0, x0 = int(rng.integers(0, h - 4)), int(rng.integers(0, w - 4))
            y1, x1 = y0 + int(rng.integers(2, h - y0 + 1)), x0 + int(rng.integers(2, w - x0 + 1))
            masks[k, y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0)) < 0.8  # with holes: its box's crop is no block
            masks[k, [y0, y1 - 1], [x0, x1 - 1]] = True
            amodal[k] = (masks[k] | (rng.random((h, w)) < rng.choice([0.0, 0.05, 0.3]))) & (rng.random((h, w)) < 0.95)
        z = np.zeros((n, n), np.float32)
        kept = OrderResult(order=z.astype(np.int8), growth=z, layering=np.arange(n), amodal=amodal)
        reuse = OrderReuse()
        reuse.keep(as_array(masks), list(range(n)), *cues(masks), replace(kept, amodal=as_array(amodal)))
        shifts = [(int(dx), int(dy)) for dx, dy in rng.integers(-4, 5, (n, 2))]
        now_boxes = np.array([(x0 + dx, y0 + dy, x1 + dx, y1 + dy) for (x0, y0, x1, y1), (dx, dy)
                              in zip(MaskSet(masks).boxes(), shifts)]).clip(0, [w, h, w, h])
        now = np.zeros_like(masks)
        for k, (x0, y0, x1, y1) in enumerate(now_boxes):
            now[k, y0:y1, x0:x1] = rng.random((y1 - y0, x1 - x0)) < 0.5  # not the moved mask: the join shows
        joined = reuse._anchor.joined(shifts, as_array(now), now_boxes)
        np.testing.assert_array_equal(np.asarray(joined), _joined_over_whole_frames(masks, amodal, shifts, now))
