"""Completions as parts of the frame (``compose.boxes.Part``): no frame-sized copy per instance,
and the same pixels as whole-frame completions."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt import _ext
from interorder_rt.completion import ContentCompletion
from interorder_rt.compose import InstanceMemory, Layer, merge_transfer, plan_removal, with_revealed
from interorder_rt.compose.boxes import (
    Part, mask_box, mask_box_in, plane_boxes, union_box, union_in, with_visible,
)
from interorder_rt.synth import generate_scene

H, W = 40, 60


def rect(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


@pytest.fixture(scope="module")
def scene():
    return generate_scene(3)


@pytest.mark.parametrize("filler", ["telea", "mnet"])
def test_completed_parts_equal_the_whole_frame_completions(scene, filler):
    completer = ContentCompletion(instance=filler)
    holes = scene.amodal & ~scene.modal
    boxes = [union_box([mask_box(a), mask_box(v)]) if h.any() else None
             for a, v, h in zip(scene.amodal, scene.modal, holes)]
    whole = completer.complete_many(scene.image, scene.modal, scene.amodal)
    parts = completer.complete_parts(scene.image, list(scene.modal), list(holes), boxes)
    assert any(part is not None for part in parts)
    for n, part in enumerate(parts):
        if part is None:
            np.testing.assert_array_equal(whole[n], scene.image)
            continue
        x0, y0, x1, y1 = part.box
        pasted = scene.image.copy()
        pasted[y0:y1, x0:x1] = part.rgb
        np.testing.assert_array_equal(pasted, whole[n])


@pytest.mark.parametrize("filler", ["telea", "mnet"])
def test_each_layer_is_completed_as_if_alone(scene, filler):
    """``complete_layers``, as a stream's instance memory calls it: instance n from its own image."""
    completer = ContentCompletion(instance=filler)
    holes = scene.amodal & ~scene.modal
    todo = [n for n in range(scene.n) if holes[n].any()][:2]
    images = [scene.image, np.ascontiguousarray(scene.image[..., ::-1])]  # a layer each, unlike each other
    boxes = [union_box([mask_box(scene.amodal[n]), mask_box(scene.modal[n])]) for n in todo]
    together = completer.complete_layers(images, [scene.modal[n] for n in todo], [holes[n] for n in todo], boxes)
    for k, n in enumerate(todo):
        alone = completer.complete_parts(images[k], [scene.modal[n]], [holes[n]], [boxes[k]])[0]
        assert together[k].box == alone.box
        np.testing.assert_array_equal(together[k].rgb, alone.rgb)


def test_completed_parts_refuse_mismatched_inputs(scene):
    completer = ContentCompletion(instance="telea")
    with pytest.raises(ValueError, match="entries"):
        completer.complete_parts(scene.image, list(scene.modal), list(scene.modal[:1]), [None] * scene.n)
    with pytest.raises(ValueError, match="holes"):
        completer.complete_parts(scene.image, [scene.modal[0]], [scene.modal[0][:5]], [None])
    with pytest.raises(ValueError, match="entries"):
        completer.complete_layers([scene.image], list(scene.modal[:2]), list(scene.modal[:2]), [None, None])


def test_the_background_serves_as_every_revealing_instance_layer():
    """What the Engine relies on: with the revealed pixels staged back to front, painting each
    revealing instance from the filled background, and skipping the layers below the first new
    person, gives what painting its own completion gives, with a half-transparent new person
    between two instances whose revealed parts overlap."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    back, middle, old, other = rect(5, 30, 5, 35), rect(10, 35, 25, 55), rect(8, 32, 15, 45), rect(0, 8, 0, 20)
    modal = np.stack([back & ~middle & ~old & ~other, middle & ~old, old, other])
    amodal = np.stack([back, middle, old, other])
    layering = [0, 3, 1, 2]  # new person 3 goes between the two instances, new person 2 in front
    plan = plan_removal(modal, amodal, layering, [2, 3])
    assert (plan.revealed[0] & plan.revealed[1]).any()
    own = {k: rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for k in (0, 1)}
    for k in own:
        own[k][modal[k]] = image[modal[k]]
    background = with_revealed(image, plan, {k: Part.whole(own[k]) for k in own}, layering)
    background[plan.background] = 7
    alpha = np.zeros((H, W), np.uint8)
    alpha[12:28, 20:40] = 128  # over the overlap of the revealed parts
    people = {3: Layer(np.full((H, W, 3), 200, np.uint8), alpha > 0, alpha),
              2: Layer(np.full((H, W, 3), 50, np.uint8), rect(0, 5, 50, 60))}
    separate = merge_transfer(background, image, modal, layering, plan, own, people)
    for shared in (merge_transfer(background, image, modal, layering, plan, dict.fromkeys(own, background), people),
                   merge_transfer(background, image, modal, layering, plan, None, people)):  # the Engine's call
        np.testing.assert_array_equal(shared[0], separate[0])
        for t in people:
            np.testing.assert_array_equal(shared[1][t], separate[1][t])


def test_a_part_with_its_origin_is_remembered_like_the_whole_image():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    table, hidden = rect(10, 30, 10, 50), rect(10, 30, 20, 30)
    completed = image.copy()
    completed[hidden] = 99
    layers = []
    for completion, at in ((completed, (0, 0)), (completed[5:35, 15:40], (15, 5))):
        memory = InstanceMemory()
        memory.update(image, (table & ~hidden)[None], ids=[3])
        memory.remember(3, completion, hidden, at=at)
        layers.append(memory.recall(3, hidden)[0])
    assert (layers[0][hidden] == 99).all()
    np.testing.assert_array_equal(layers[1][table], layers[0][table])


def test_a_part_reads_the_frame_boxes_it_holds():
    image = np.arange(H * W * 3, dtype=np.uint8).reshape(H, W, 3)
    part = Part((10, 5, 30, 25), image[5:25, 10:30])
    np.testing.assert_array_equal(part.within((12, 6, 20, 9)), image[6:9, 12:20])
    np.testing.assert_array_equal(Part.whole(image).within((0, 0, W, H)), image)


def test_a_mask_box_looked_for_in_a_box_is_the_tight_box():
    mask = rect(12, 20, 7, 31)
    assert mask_box_in(mask, (0, 10, 40, 30)) == mask_box(mask) == (7, 12, 31, 20)
    assert mask_box_in(mask, None) is None
    assert mask_box_in(np.zeros((H, W), bool), (0, 0, 10, 10)) is None


def test_the_boxes_of_a_stack_are_each_planes_tight_box_for_arrays_and_tensors():
    import torch

    rng = np.random.default_rng(5)
    for _ in range(100):
        n, h, w = (int(v) for v in rng.integers(1, 30, 3))
        stack = rng.random((n, h, w)) < rng.choice([0.0, 0.01, 0.2])  # empty planes, single pixels, blobs
        expected = [mask_box(plane) for plane in stack]
        assert plane_boxes(stack) == expected and plane_boxes(torch.from_numpy(stack)) == expected


def test_the_union_of_masks_in_their_boxes_is_their_union():
    masks = np.stack([rect(5, 15, 5, 15), rect(20, 30, 30, 50), rect(0, 0, 0, 0)])
    boxes = [mask_box(m) for m in masks]
    np.testing.assert_array_equal(union_in(masks, boxes), masks.any(axis=0))
    np.testing.assert_array_equal(union_in(masks, [None, boxes[1], None]), masks[1])


def test_amodal_masks_holding_the_visible_ones_are_not_copied():
    masks = np.stack([rect(5, 15, 5, 15), rect(20, 30, 30, 50)])
    boxes = [mask_box(m) for m in masks]
    amodal = masks | np.stack([rect(5, 20, 5, 15), rect(0, 0, 0, 0)])
    assert with_visible(amodal, masks, boxes) is amodal
    short = amodal.copy()
    short[1, 25, 40] = False  # a visible pixel the amodal mask lacks
    out = with_visible(short, masks, boxes)
    np.testing.assert_array_equal(out, amodal)
    assert not short[1, 25, 40]  # the given masks are left as they were


@pytest.mark.skipif(_ext.compiled() is None, reason="the compiled core is not built")
def test_the_fill_keeps_no_state_between_calls_of_other_sizes():
    """The CPU fill reuses its buffers from call to call: a larger or a smaller region in between
    changes nothing, and a nonzero uint8 ``shown`` reads as set."""
    core = _ext.compiled()
    rng = np.random.default_rng(2)

    def case(h, w):
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        hole = np.zeros((h, w), bool)
        hole[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3] = True
        shown = np.zeros((h, w), np.uint8)
        shown[: h // 2] = 2
        return image, hole, ~hole, shown

    def fill(image, hole, source, shown):
        return core.patchmatch_fill(image, hole, source, patch_size=7, iterations=4, finest_iterations=0,
                                    coarsest_side=20, local_radius=8, seed=0, shown=shown)

    small, large = case(60, 80), case(150, 200)
    first = fill(*small)
    fill(*large)
    np.testing.assert_array_equal(fill(*small), first)
    image, hole, source, shown = small
    np.testing.assert_array_equal(fill(image, hole, source, shown.astype(bool)), first)
