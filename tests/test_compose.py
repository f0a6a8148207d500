"""The merge painter on hand-built layers (exact pixels) and the stream order smoother; no network."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from interorder_rt.compose import (
    Layer,
    OrderSmoother,
    joint_occluders,
    merge_layering,
    merge_transfer,
    paint,
    paste_on_top,
    plan_removal,
    trusted_edges,
    with_joint_evidence,
)
from interorder_rt.ops.order import OrderResult, layering_from_order

H, W = 6, 8


def solid(value: int) -> np.ndarray:
    return np.full((H, W, 3), value, dtype=np.uint8)


def box(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((H, W), dtype=bool)
    m[y0:y1, x0:x1] = True
    return m


def test_paint_is_back_to_front_with_owner_map():
    back, front = box(0, 4, 0, 4), box(2, 6, 2, 6)
    out, owner = paint(solid(0), [Layer(solid(10), back), Layer(solid(20), front)])
    assert (out[front] == 20).all()
    assert (out[back & ~front] == 10).all()
    assert (out[~back & ~front] == 0).all()
    assert (owner[front] == 1).all() and (owner[back & ~front] == 0).all() and (owner[~(back | front)] == -1).all()


def test_paint_in_place_paints_the_base_itself():
    back, front = box(0, 4, 0, 4), box(2, 6, 2, 6)
    layers = [Layer(solid(10), back), Layer(solid(20), front)]
    base = solid(0)
    copied, owner = paint(base, layers)
    assert (base == 0).all()
    out, owner_in_place = paint(base, layers, in_place=True)
    assert out is base
    np.testing.assert_array_equal(out, copied)
    np.testing.assert_array_equal(owner_in_place, owner)


def test_paint_rejects_a_layer_of_another_size():
    with pytest.raises(ValueError, match="layer 0"):
        paint(solid(0), [Layer(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), bool))])


def test_paste_on_top_ignores_order():
    mask = box(1, 3, 1, 3)
    out = paste_on_top(solid(5), solid(99), mask)
    assert (out[mask] == 99).all() and (out[~mask] == 5).all()


# A hand-built scene: 0 = wall at the back, 1 = person to replace (in front of the wall),
# 2 = a pole in front of the person.  Columns: wall 0-5, person 3-6, pole 5.
WALL_AMODAL, PERSON, POLE = box(0, 6, 0, 6), box(0, 6, 3, 7), box(0, 6, 5, 6)


def scene():
    modal = np.stack([WALL_AMODAL & ~PERSON, PERSON & ~POLE, POLE])
    amodal = np.stack([WALL_AMODAL, PERSON, POLE])
    image = np.zeros((H, W, 3), np.uint8)
    for k, value in enumerate((10, 20, 30)):
        image[modal[k]] = value
    image[~modal.any(axis=0)] = 1  # background
    return image, modal, amodal, np.array([0, 1, 2])


def test_plan_reveals_what_the_person_hid_for_instances_behind_only():
    image, modal, amodal, layering = scene()
    plan = plan_removal(modal, amodal, layering, [1])
    assert (plan.hole == modal[1]).all()
    assert (plan.revealed[0] == (WALL_AMODAL & PERSON & ~POLE)).all()
    assert not plan.revealed[1].any() and not plan.revealed[2].any()
    assert (plan.background == (PERSON & ~POLE & ~WALL_AMODAL)).all()
    assert plan.needs_completion() == [0]


def test_plan_ignores_instances_in_front_even_if_their_amodal_reaches_the_hole():
    image, modal, amodal, layering = scene()
    amodal = amodal.copy()
    amodal[2] |= PERSON  # a front instance with a sloppy amodal mask
    plan = plan_removal(modal, amodal, layering, [1])
    assert not plan.revealed[2].any()


def test_plan_rejects_a_layering_that_is_not_a_permutation():
    image, modal, amodal, _ = scene()
    with pytest.raises(ValueError, match="permutation"):
        plan_removal(modal, amodal, [0, 0, 2], [1])


def test_merge_puts_the_new_person_in_the_slot_exact_pixels():
    image, modal, amodal, layering = scene()
    plan = plan_removal(modal, amodal, layering, [1])
    background = image.copy()
    background[plan.background] = 2  # what a background filler would have painted
    completed_wall = image.copy()
    completed_wall[plan.revealed[0]] = 11  # the wall's completed hidden content
    new_person = box(1, 5, 2, 7)  # shifted and narrower than the old one
    out, visible = merge_transfer(
        background, image, modal, layering, plan, {0: completed_wall}, {1: Layer(solid(50), new_person)}
    )
    expected = image.copy()
    expected[plan.background] = 2
    expected[plan.revealed[0]] = 11
    expected[new_person] = 50
    expected[POLE] = 30  # the pole still occludes the new person
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(visible[1], new_person & ~POLE)


@pytest.mark.parametrize("reach", [(2, 1, 7, 5), (-3, -2, 9, 8)])  # tight, and past the frame's edges
def test_merge_reads_a_boxed_person_as_an_unboxed_one(reach):
    image, modal, amodal, layering = scene()
    plan = plan_removal(modal, amodal, layering, [1])
    completed_wall = image.copy()
    completed_wall[plan.revealed[0]] = 11
    new_person = box(1, 5, 2, 7)
    (out, visible), (boxed_out, boxed_visible) = (
        merge_transfer(image, image, modal, layering, plan, {0: completed_wall}, {1: Layer(solid(50), new_person, box=b)})
        for b in (None, reach))
    np.testing.assert_array_equal(boxed_out, out)
    np.testing.assert_array_equal(boxed_visible[1], visible[1])
    assert visible[1].any()


def test_merge_with_two_people_keeps_their_mutual_order():
    image, modal, amodal, _ = scene()
    # Replace both the wall (as if it were a person) and the person; the old person stays in front.
    layering = np.array([0, 1, 2])
    plan = plan_removal(modal, amodal, layering, [0, 1])
    assert not plan.revealed.any()
    back, front = box(0, 6, 0, 5), box(0, 6, 4, 8)
    out, visible = merge_transfer(
        image, image, modal, layering, plan, {}, {0: Layer(solid(60), back), 1: Layer(solid(70), front)}
    )
    assert (out[front & ~POLE] == 70).all()
    assert (out[back & ~front] == 60).all()
    assert (out[POLE] == 30).all()
    np.testing.assert_array_equal(visible[0], back & ~front)


def test_merge_requires_completed_content_for_revealed_instances():
    image, modal, amodal, layering = scene()
    plan = plan_removal(modal, amodal, layering, [1])
    with pytest.raises(ValueError, match="instance 0"):
        merge_transfer(image, image, modal, layering, plan, {}, {1: Layer(solid(50), PERSON)})


# --- temporal smoothing of the order -------------------------------------------------------------

BORDERING = np.array([[False, True], [True, False]])


def raw_order(g01: float, g10: float) -> OrderResult:
    growth = np.array([[0, g01], [g10, 0]], dtype=np.float32)
    order = np.sign(growth.T - growth).astype(np.int8)
    return OrderResult(order=order, growth=growth, layering=np.arange(2), dropped=[])


def test_smoothed_order_does_not_flicker_when_evidence_alternates_near_zero():
    smoother = OrderSmoother(alpha=0.3, margin=2e-4)  # margin: 2 px on a 100 x 100 frame
    raw_orders, stable_orders = [], []
    for t in range(40):
        noise = 1.5 if t % 2 == 0 else -1.5  # evidence flips sign every frame
        raw = raw_order(10.0, 10.0 + noise)
        stable = smoother.update(raw, ids=[7, 9], bordering=BORDERING, image_area=100 * 100)
        raw_orders.append(int(raw.order[0, 1]))
        stable_orders.append(int(stable.order[0, 1]))
    assert len(set(raw_orders)) == 2  # the raw order flickers...
    assert set(stable_orders) == {1}  # ...the stable one keeps the first relation
    assert stable.order[1, 0] == -1


def test_smoothed_order_follows_a_real_change_after_a_few_frames():
    smoother = OrderSmoother(alpha=0.3, margin=2e-4)
    first = [smoother.update(raw_order(0.0, 50.0), [1, 2], BORDERING, 10_000).order[0, 1] for _ in range(5)]
    later = [smoother.update(raw_order(50.0, 0.0), [1, 2], BORDERING, 10_000).order[0, 1] for _ in range(10)]
    assert first == [1] * 5
    assert later[0] == 1  # one contrary frame is not enough
    assert later[-1] == -1


def test_smoothing_is_keyed_by_instance_id_not_index():
    smoother = OrderSmoother(alpha=0.3, margin=2e-4)
    smoother.update(raw_order(0.0, 50.0), [1, 2], BORDERING, 10_000)  # id 1 in front of id 2
    # Same instances, listed in the other order, with weak contrary evidence: id 1 stays in front.
    swapped = smoother.update(raw_order(0.0, 1.0), [2, 1], BORDERING, 10_000)
    assert swapped.order[1, 0] == 1 and swapped.order[0, 1] == -1
    np.testing.assert_array_equal(swapped.layering, [0, 1])


def test_smoothing_drops_pairs_that_do_not_border():
    smoother = OrderSmoother()
    stable = smoother.update(raw_order(0.0, 50.0), [1, 2], np.zeros((2, 2), bool), 10_000)
    assert not stable.order.any()


# --- the layering used for merging ------------------------------------------------------------------


def order_with_growth(growth: np.ndarray, layering) -> OrderResult:
    growth = np.asarray(growth, dtype=np.float32)
    order = np.sign(growth.T - growth).astype(np.int8)
    return OrderResult(order=order, growth=growth, layering=np.asarray(layering), dropped=[])


def test_merge_layering_trusts_only_enough_evidence_that_the_replaced_person_is_in_front():
    # Instance 1 is replaced; instance 0 grew 3 px into it (weak evidence that 1 hides 0).
    recovered = order_with_growth([[0, 3, 0], [0, 0, 0], [0, 0, 0]], layering=[0, 1, 2])
    np.testing.assert_array_equal(merge_layering(recovered, [1], min_evidence=0), [0, 1, 2])
    np.testing.assert_array_equal(merge_layering(recovered, [1], min_evidence=10), [1, 0, 2])
    assert not trusted_edges(recovered, [1], min_evidence=10).any()


def test_merge_layering_keeps_what_must_lie_behind_and_puts_the_rest_in_front():
    # 0 behind 1 (strong), 1 behind 3 (strong), 2 unrelated to the replaced person 1.
    growth = np.zeros((4, 4))
    growth[0, 1] = 200
    growth[1, 3] = 200
    recovered = order_with_growth(growth, layering=[2, 0, 1, 3])
    np.testing.assert_array_equal(merge_layering(recovered, [1], min_evidence=10), [0, 1, 2, 3])


def test_merge_layering_ignores_dropped_edges():
    recovered = order_with_growth([[0, 50], [0, 0]], layering=[0, 1])
    recovered.dropped = [(1, 0)]
    np.testing.assert_array_equal(merge_layering(recovered, [1], min_evidence=0), [1, 0])


def person_and_bar() -> np.ndarray:
    """(2, 20, 20) masks: a person (0) on the left, a bar (1) on the right, touching at x = 10."""
    masks = np.zeros((2, 20, 20), dtype=bool)
    masks[0, 2:18, 4:10] = True
    masks[1, 0:20, 10:16] = True
    return masks


def test_a_joint_well_inside_another_instance_marks_it_as_hiding_the_person():
    masks = person_and_bar()
    hidden_wrist = np.array([[13.5, 8.5]])  # 3 px inside the bar, 4 px from the person
    np.testing.assert_array_equal(joint_occluders(masks, 0, hidden_wrist), [False, True])


@pytest.mark.parametrize(
    "point",
    [[10.5, 8.5], [11.5, 8.5], [15.5, 8.5], [6.5, 8.5], [np.nan, np.nan], [40.0, 8.0], [-3.0, 8.0]],
    ids=["on-the-seam", "1px-from-the-person", "at-the-bar-edge", "on-the-person", "missing", "right-of-image",
         "left-of-image"],
)
def test_joints_near_the_seam_on_the_person_missing_or_outside_are_no_evidence(point):
    np.testing.assert_array_equal(joint_occluders(person_and_bar(), 0, np.array([point])), [False, False])


def test_joint_windows_agree_with_the_full_frame_morphology_at_the_frame_border():
    """The windows around the joints decide as OpenCV's dilation and erosion of whole masks would
    (pixels outside the frame neither near the person nor against an occluder)."""
    rng = np.random.default_rng(3)
    kernel = np.ones((5, 5), np.uint8)
    for _ in range(200):
        masks = np.zeros((3, 20, 24), bool)
        for plane in masks:
            x0, y0 = rng.integers(-4, 20, 2)
            plane[max(y0, 0) : max(y0 + rng.integers(2, 14), 0), max(x0, 0) : max(x0 + rng.integers(2, 14), 0)] = True
        points = rng.uniform(-2, 25, (6, 2))
        near = cv2.dilate(masks[0].astype(np.uint8), kernel).astype(bool)
        expected = np.zeros(3, bool)
        for x, y in np.floor(points).astype(int):
            if 0 <= x < 24 and 0 <= y < 20 and not near[y, x]:
                expected[1:] |= [cv2.erode(m.astype(np.uint8), kernel)[y, x] > 0 for m in masks[1:]]
        np.testing.assert_array_equal(joint_occluders(masks, 0, points), expected)


def test_joint_evidence_overrules_a_recovered_person_in_front():
    masks = person_and_bar()
    order = np.array([[0, 1], [-1, 0]], dtype=np.int8)  # recovered: the person (0) in front of the bar
    growth = np.array([[0, 0], [30, 0]], dtype=np.float32)
    layering, dropped = layering_from_order(order, growth)
    recovered = OrderResult(order=order, growth=growth, layering=layering, dropped=dropped)

    fixed = with_joint_evidence(recovered, masks, [0], [np.array([[13.5, 8.5]])])
    np.testing.assert_array_equal(fixed.order, [[0, -1], [1, 0]])
    np.testing.assert_array_equal(fixed.layering, [0, 1])  # the person is painted first, the bar over it
    assert with_joint_evidence(recovered, masks, [0], [np.array([[6.5, 8.5]])]) is recovered
