"""Removal of a person: overlapping masks, the removal margin, and the background memory."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from interorder_rt.compose import (
    BackgroundMemory,
    disjoint_for_order,
    give_to_front,
    grow_targets,
    margin_pixels,
    overlapping_pairs,
    plan_removal,
)
from interorder_rt.ops.maskset import MaskSet
from interorder_rt.ops.order import OrderResult, layering_from_order

COCO = Path(__file__).resolve().parents[1] / ".." / "shared" / "real" / "coco" / "test_coco.json"


def box(h: int, w: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[y0:y1, x0:x1] = True
    return mask


# ---- overlapping masks ----------------------------------------------------------------------

def test_shared_pixels_go_to_the_front_instance():
    a, b = box(20, 20, 2, 12, 2, 12), box(20, 20, 8, 18, 8, 18)
    masks = np.stack([a, b])
    owned, reassigned = give_to_front(masks, [1, 0])  # 0 in front
    np.testing.assert_array_equal(owned[0], a)
    np.testing.assert_array_equal(owned[1], b & ~a)
    np.testing.assert_array_equal(reassigned[1], a & b)
    assert not reassigned[0].any() and not (owned[0] & owned[1]).any()


def test_disjoint_masks_keep_their_pixels_and_reassign_none():
    masks = np.stack([box(20, 20, 2, 8, 2, 8), box(20, 20, 10, 18, 10, 18)])
    owned, reassigned = give_to_front(masks, [0, 1])
    assert owned is masks and reassigned.shape == masks.shape and not reassigned.any()
    assert not reassigned.flags.writeable  # all False, held by no frame-sized array


class SharedPixelsDecide:
    """An order recovery for two masks: whichever holds pixel (10, 10) is in front."""

    def __call__(self, masks: MaskSet, image=None, *, amodal: bool = False) -> OrderResult:
        m = masks.to_numpy()
        front = 0 if m[0, 10, 10] else 1
        growth = np.zeros((2, 2), np.float32)
        growth[1 - front, front] = 50.0
        order = np.sign(growth.T - growth).astype(np.int8)
        layering, dropped = layering_from_order(order, growth)
        return OrderResult(order=order, growth=growth, layering=layering, dropped=dropped)


def test_the_consistent_assignment_with_more_evidence_wins():
    a, b = box(20, 20, 2, 12, 2, 12), box(20, 20, 8, 18, 8, 18)
    masks = np.stack([a, b])
    pairs = overlapping_pairs(MaskSet(masks))
    assert pairs == [(0, 1)]
    out = disjoint_for_order(masks, pairs, SharedPixelsDecide())
    assert not (out[0] & out[1]).any()
    assert out[0][10, 10] != out[1][10, 10]  # given wholly to one of them


@pytest.mark.skipif(not COCO.exists(), reason="../shared/real is absent")
def test_coco_persons_2_and_3_of_197388_are_ordered_right_through_the_engine():
    import cv2
    from pycocotools import mask as coco_mask

    from interorder_rt.engine import Engine
    from interorder_rt.pose.formats import coco17_to_coco18

    data = json.loads(COCO.read_text())
    info = next(i for i in data["images"] if i["file_name"] == "000000197388.jpg")
    anns = [a for a in data["annotations"] if a["image_id"] == info["id"]]
    h, w = info["height"], info["width"]
    masks = np.stack([coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(a["segmentation"], h, w))).astype(bool)
                      for a in anns])
    assert (masks[2] & masks[3]).sum() == 370  # the masks as given overlap
    image = cv2.cvtColor(cv2.imread(str(COCO.parent / info["file_name"])), cv2.COLOR_BGR2RGB)
    keypoints = coco17_to_coco18(np.array(anns[0]["keypoints"], np.float32).reshape(17, 3))
    engine = Engine()
    engine.set_source(image, masks[0], keypoints)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = engine.run(image=image, masks=masks, target=0, keypoints=keypoints)
        engine.run(image=image, masks=masks, target=0, keypoints=keypoints)
    assert sum("overlap" in str(w.message) for w in caught) == 1  # once
    assert result.order.order[3, 2] == 1  # the front skier (3) occludes the one behind (2)
    np.testing.assert_array_equal(result.reassigned[2], masks[2] & masks[3])
    assert not result.reassigned[3].any()


# ---- the removal margin ---------------------------------------------------------------------

def test_margin_is_relative_with_a_floor_and_zero_disables_it():
    person = box(500, 100, 50, 450, 20, 80)  # 400 px tall
    assert margin_pixels(person, 0.01) == 4
    assert margin_pixels(box(60, 60, 10, 50, 10, 30), 0.01) == 2
    assert margin_pixels(person, 0.0) == 0


def test_margin_never_eats_a_front_instance_and_takes_from_one_behind():
    h, w = 40, 60
    target = box(h, w, 10, 30, 20, 40)
    front = box(h, w, 10, 30, 40, 50)  # touches the target's right side
    behind = box(h, w, 10, 30, 10, 20)  # touches its left side
    modal = np.stack([target, front, behind])
    layering = [2, 0, 1]  # behind, target, front
    grown = grow_targets(modal, layering, [0], 0.2)  # 4 px
    np.testing.assert_array_equal(grown[1], front)
    assert not (grown[0] & front).any()
    assert grown[0][20, 16] and not grown[2][20, 16]  # taken from the instance behind
    assert grown[0][6, 30] and grown[0][20, 16]  # grew into the background too
    plan = plan_removal(grown, modal | box(h, w, 10, 30, 10, 30)[None], layering, [0])
    assert plan.revealed[2][20, 16]  # the instance behind completes what the margin took


def loose_person(seed: int, texture: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, annotated mask, the person's true pixels): a 40 px tall person whose mask misses a
    4 px rim of it (a glove's edge), on a grey background with noise of ``texture`` levels."""
    rng = np.random.default_rng(seed)
    image = np.clip(120 + rng.normal(0, texture, (60, 60, 3)), 0, 255).astype(np.uint8)
    truth, mask = box(60, 60, 10, 50, 16, 40), box(60, 60, 10, 50, 20, 40)
    image[truth] = (30, 60, 200)
    return image, mask, truth


def test_the_region_snaps_to_the_outline_a_loose_mask_misses():
    image, mask, truth = loose_person(0, texture=4.0)
    plain = grow_targets(mask[None], [0], [0], 0.01)[0]  # the 2 px margin
    snapped = grow_targets(mask[None], [0], [0], 0.01, image=image)[0]
    assert (truth & ~plain).sum() == 2 * 40  # a strip the margin leaves
    assert not (truth & ~snapped).any()  # the snap takes it: up to one margin further
    assert (snapped & ~plain & ~truth).sum() == 0  # and no background


def test_a_textured_background_next_to_a_tight_mask_stays():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (60, 60, 3), dtype=np.uint8)  # as busy as background gets
    mask = box(60, 60, 10, 50, 20, 40)
    image[mask] = (30, 60, 200)
    plain = grow_targets(mask[None], [0], [0], 0.01)[0]
    snapped = grow_targets(mask[None], [0], [0], 0.01, image=image)[0]
    assert (snapped & ~plain).sum() <= 0.05 * (plain & ~mask).sum()


def test_the_snap_takes_no_instance():
    image, mask, truth = loose_person(2, texture=4.0)
    other = truth & ~mask
    other[30:] = False  # the upper half of the missed rim is another instance
    for layering in ([1, 0], [0, 1]):  # behind the person, in front of it
        masks = np.stack([mask, other])
        added = grow_targets(masks, layering, [0], 0.01, image=image)[0] & ~grow_targets(masks, layering, [0], 0.01)[0]
        assert added[30:].any() and not (added & other).any()  # the rest of the rim, background only


def test_engine_removal_margin_option_is_checked():
    from interorder_rt.engine import Engine

    with pytest.raises(ValueError, match="removal_margin"):
        Engine(order=object(), completion=object(), removal_margin=-0.1)


# ---- the background memory ------------------------------------------------------------------

def textured(h: int, w: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)


def mosaic(h: int, w: int, seed: int) -> np.ndarray:
    """Overlapping rectangles of random colours: corners a feature tracker can follow."""
    import cv2

    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), 128, np.uint8)
    for _ in range(h * w // 300):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        size = rng.integers(4, 30, size=2)
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        cv2.rectangle(image, (x, y), (x + int(size[0]), y + int(size[1])), colour, -1)
    return image


def test_static_memory_recalls_exactly_what_an_earlier_frame_showed():
    truth = textured(60, 80, 0)
    memory = BackgroundMemory("static")
    first = box(60, 80, 10, 50, 10, 30)
    memory.update(truth, first)
    hole = box(60, 80, 10, 50, 20, 40)  # the person moved 10 px right
    frame = truth.copy()
    frame[hole] = 0
    out, rest = memory.recall(frame, hole)
    np.testing.assert_array_equal(out[hole & ~first], truth[hole & ~first])
    np.testing.assert_array_equal(rest, hole & first)  # never seen: left to synthesise


def test_a_camera_cut_clears_the_memory():
    memory = BackgroundMemory("static")
    person = box(60, 80, 10, 50, 10, 30)
    memory.update(textured(60, 80, 0), person)
    new_shot = textured(60, 80, 1)
    memory.update(new_shot, person)
    assert memory.cuts == 1
    hole = box(60, 80, 10, 50, 20, 40)
    out, rest = memory.recall(new_shot, hole)
    np.testing.assert_array_equal(rest, hole & person)  # nothing stale from the old shot
    np.testing.assert_array_equal(out[hole & ~person], new_shot[hole & ~person])


def test_a_flat_panning_frame_finds_enough_features_to_follow():
    """A low-contrast background gives FAST's default threshold a handful of corners, too few for
    RANSAC (every frame was a cut); the lower threshold finds enough and the memory follows."""
    import cv2

    from interorder_rt.compose.background_memory import MIN_FEATURES, orb_features

    noise = cv2.GaussianBlur(np.random.default_rng(0).normal(0, 1, (256, 400)).astype(np.float32), (0, 0), 2.0)
    wide = np.clip(128 + noise / noise.std() * 8, 0, 255).astype(np.uint8)
    assert len(cv2.ORB_create().detect(wide[:, :256], None)) < MIN_FEATURES
    assert len(orb_features(wide[:, :256], np.ones((256, 256), bool))[0]) >= MIN_FEATURES
    memory = BackgroundMemory("homography")
    for k in range(5):
        memory.update(np.repeat(wide[:, 3 * k : 3 * k + 256, None], 3, axis=2), np.zeros((256, 256), bool))
    assert memory.cuts == 0


def test_homography_memory_follows_a_panning_camera():
    wide = mosaic(240, 600, 2)
    memory = BackgroundMemory("homography")
    person = box(240, 360, 60, 220, 160, 220)
    for t in range(4):
        memory.update(np.ascontiguousarray(wide[:, 6 * t : 6 * t + 360]), person)
    later = np.ascontiguousarray(wide[:, 30:390])
    hole = box(240, 360, 60, 220, 90, 150)  # where the person stands now (mostly seen before)
    memory.update(later, hole)
    assert memory.cuts == 0
    out, rest = memory.recall(later, hole)
    filled = hole & ~rest
    assert filled.sum() > 0.5 * hole.sum()
    err = np.abs(out[filled].astype(int) - later[filled]).mean()
    assert err < 4  # aligned within a fraction of a pixel


def _panned(t: int, wide: np.ndarray, *spans: tuple[int, int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Frame ``t`` of a camera panning 6 px a frame over ``wide``, and masks of things standing
    still in the scene over the column ``spans`` (scene x), rows 60 to 220."""
    frame = np.ascontiguousarray(wide[:, 6 * t : 6 * t + 360])
    return frame, [box(240, 360, 60, 220, x0 - 6 * t, x1 - 6 * t) for x0, x1 in spans]


def test_a_panning_cameras_kept_synthesis_comes_back_where_the_hole_went():
    wide, synthesis = mosaic(240, 600, 2), mosaic(240, 360, 4)
    memory = BackgroundMemory("homography")
    frame, (person, beside) = _panned(0, wide, (200, 260), (260, 300))  # someone stands beside the person
    memory.update(frame, person | beside)
    out, rest = memory.recall(frame, person)
    np.testing.assert_array_equal(rest, person)  # never seen
    filled = frame.copy()
    filled[person] = synthesis[person]
    memory.remember(filled, person)
    for t in range(1, 5):
        frame, (person, beside) = _panned(t, wide, (200, 260), (260, 300))
        memory.update(frame, person | beside)
        out, rest = memory.recall(frame, person)
        assert memory.cuts == 0 and not rest.any(), f"frame {t}: {rest.sum()} pixels left"  # the seam beside too
        kept = np.roll(synthesis, -6 * t, axis=1)  # where the synthesis lies in this frame
        assert np.abs(out[person].astype(int) - kept[person]).mean() < 4  # aligned within a fraction of a pixel


def test_engine_stream_synthesises_a_panning_cameras_hole_once():
    from interorder_rt.eval.removal import _STAND_IN_KEYPOINTS

    wide = mosaic(240, 600, 2)
    engine, Counted = _counting_engine()
    frames = []
    for t in range(5):
        frame, (mask,) = _panned(t, wide, (200, 260))
        frame[mask] = (255, 0, 255)
        frames.append({"image": frame, "masks": mask[None], "target": 0, "keypoints": _STAND_IN_KEYPOINTS})
    results = list(engine.stream(frames, memory="homography"))
    assert Counted.fills == 1
    first, last = results[0].image, results[4].image
    hole = frames[4]["masks"][0]
    assert np.abs(last[hole].astype(int) - np.roll(first, -24, axis=1)[hole]).mean() < 4  # the same fill, moved


def test_engine_stream_memory_restores_freed_pixels_of_a_static_shot():
    from interorder_rt.engine import Engine
    from interorder_rt.eval.removal import _STAND_IN_KEYPOINTS, _Nobody

    truth = textured(64, 96, 3)
    engine = Engine(order=_single_order(), pose=_Nobody(), completion=_exemplar())
    engine.set_source(np.zeros((40, 20, 3), np.uint8), np.ones((40, 20), bool), _STAND_IN_KEYPOINTS)
    frames, masks = [], []
    for t in range(3):
        mask = box(64, 96, 10, 60, 10 + 15 * t, 30 + 15 * t)
        frame = truth.copy()
        frame[mask] = (255, 0, 255)
        frames.append({"image": frame, "masks": mask[None], "target": 0, "keypoints": _STAND_IN_KEYPOINTS})
        masks.append(mask)
    results = list(engine.stream(frames, memory="static"))
    freed = masks[2] & ~masks[1] & ~masks[0]  # never seen: synthesised
    shown = masks[2] & ~freed
    np.testing.assert_array_equal(results[2].image[shown], truth[shown])
    assert not (results[2].image[freed] == (255, 0, 255)).all(axis=-1).any()


def test_a_remembered_fill_comes_back_until_the_real_background_is_seen():
    truth = textured(60, 80, 5)
    memory = BackgroundMemory("static")
    person = box(60, 80, 10, 50, 10, 30)
    memory.update(truth, person)
    synthesised = np.full_like(truth, 77)
    memory.remember(synthesised, person)  # the fill of the never-seen pixels
    out, rest = memory.recall(truth, person)
    assert not rest.any() and (out[person] == 77).all()
    half = box(60, 80, 10, 50, 20, 30)
    memory.update(truth, half)  # half the never-seen part has been seen: synthesised anew, with more context
    np.testing.assert_array_equal(memory.recall(truth, half)[1], half)
    memory.update(truth, box(60, 80, 10, 50, 40, 60))  # the person moved: the real pixels show
    out, rest = memory.recall(truth, person)
    assert not rest.any()
    np.testing.assert_array_equal(out[person], truth[person])


def _kept_fill(person: np.ndarray, covered: np.ndarray | None = None) -> tuple[np.ndarray, BackgroundMemory]:
    """A textured frame, and a still camera's memory that saw it around ``covered`` (default:
    ``person``) and keeps a synthesis of grey level 77 over ``person``."""
    truth = textured(60, 80, 5)
    memory = BackgroundMemory("static")
    memory.update(truth, person if covered is None else covered)
    memory.remember(np.full_like(truth, 77), person)
    return truth, memory


def test_a_kept_fill_seen_in_good_part_since_is_made_anew_next_to_what_was_seen():
    from interorder_rt.compose.instance_memory import REFRESH_BAND

    person = box(60, 80, 10, 50, 10, 50)
    truth, memory = _kept_fill(person)
    now = box(60, 80, 10, 50, 14, 50)  # the person stepped right: a tenth of the fill is seen now
    memory.update(truth, now)
    out, rest = memory.recall(truth, now)
    near = box(60, 80, 10, 50, 14, 14 + REFRESH_BAND)
    np.testing.assert_array_equal(rest, near)  # synthesised anew, with what was seen as context
    assert (out[now & ~near] == 77).all()  # farther off, the fill stays


def test_a_kept_fill_is_extended_by_the_never_seen_pixels_it_lacks():
    person, passer = box(60, 80, 10, 50, 10, 30), box(60, 80, 10, 50, 30, 36)  # someone stood beside the person
    truth, memory = _kept_fill(person, covered=person | passer)
    wider = person | passer  # the passer has left: the hole now holds never-seen pixels the fill lacks
    memory.update(truth, wider)
    out, rest = memory.recall(truth, wider)
    np.testing.assert_array_equal(rest, passer)  # only those are left to synthesise
    assert (out[person] == 77).all()
    memory.remember(np.full_like(truth, 99), passer)  # their fill joins the kept one
    out, rest = memory.recall(truth, wider)
    assert not rest.any() and (out[person] == 77).all() and (out[passer] == 99).all()


def test_a_kept_fill_holds_while_the_hole_only_shrinks_behind_someone_in_front():
    person = box(60, 80, 10, 50, 10, 30)
    truth, memory = _kept_fill(person)
    front = box(60, 80, 10, 50, 10, 20)  # someone in front now hides half of the hole: nothing new is seen
    memory.update(truth, person | front)
    out, rest = memory.recall(truth, person & ~front)
    assert not rest.any() and (out[person & ~front] == 77).all()


def _counting_engine() -> tuple:
    """An Engine that removes its frames' one instance and puts nobody back, and the class of its
    exemplar completion, which counts the background fills (``fills``)."""
    from interorder_rt.engine import Engine
    from interorder_rt.eval.removal import _STAND_IN_KEYPOINTS, _Nobody

    class Counted(type(_exemplar())):
        fills = 0

        def fill_background(self, image, hole, avoid=None):
            Counted.fills += 1
            return super().fill_background(image, hole, avoid=avoid)

    engine = Engine(order=_single_order(), pose=_Nobody(), completion=Counted(background="exemplar",
                                                                              instance="exemplar"))
    engine.set_source(np.zeros((40, 20, 3), np.uint8), np.ones((40, 20), bool), _STAND_IN_KEYPOINTS)
    return engine, Counted


def test_engine_stream_synthesises_a_never_seen_hole_once():
    from interorder_rt.eval.removal import _STAND_IN_KEYPOINTS

    truth, mask = textured(64, 96, 6), box(64, 96, 10, 60, 30, 50)
    engine, Counted = _counting_engine()
    rng = np.random.default_rng(0)
    frames = []
    for _ in range(3):  # fresh sensor noise each frame: nothing repeats byte for byte
        frame = np.clip(truth + rng.integers(-2, 3, truth.shape), 0, 255).astype(np.uint8)
        frame[mask] = (255, 0, 255)
        frames.append({"image": frame, "masks": mask[None], "target": 0, "keypoints": _STAND_IN_KEYPOINTS})
    results = list(engine.stream(frames, memory="static"))
    assert Counted.fills == 1
    np.testing.assert_array_equal(results[2].image[mask], results[0].image[mask])
    assert list(engine.stream(frames, memory=None)) and Counted.fills == 4  # without the memory: every frame


def test_engine_stream_extends_its_kept_fill_by_the_pixels_it_lacks():
    from interorder_rt.engine import Engine
    from interorder_rt.eval.removal import _STAND_IN_KEYPOINTS, _Nobody

    class Counted(type(_exemplar())):
        holes = []

        def fill_background(self, image, hole, avoid=None):
            Counted.holes.append(hole.copy())
            return super().fill_background(image, hole, avoid=avoid)

    truth = textured(64, 96, 7)
    engine = Engine(order=_single_order(), pose=_Nobody(), completion=Counted(background="exemplar",
                                                                              instance="exemplar"),
                    removal_margin=0)
    engine.set_source(np.zeros((40, 20, 3), np.uint8), np.ones((40, 20), bool), _STAND_IN_KEYPOINTS)
    frames = []
    for person, other in ((box(64, 96, 10, 60, 30, 70), box(64, 96, 10, 60, 70, 80)),  # someone stands beside
                          (box(64, 96, 10, 60, 31, 71), box(64, 96, 10, 60, 72, 82))):  # both step right
        frame = truth.copy()
        frame[person], frame[other] = (255, 0, 255), (0, 255, 0)
        frames.append({"image": frame, "masks": np.stack([person, other]), "target": 0,
                       "keypoints": _STAND_IN_KEYPOINTS, "instance_ids": [1, 2]})
    results = list(engine.stream(frames, memory="static"))
    first, second = Counted.holes
    np.testing.assert_array_equal(first, box(64, 96, 10, 60, 30, 70))
    np.testing.assert_array_equal(second, box(64, 96, 10, 60, 70, 71))  # never seen, and not in the kept fill
    kept = box(64, 96, 10, 60, 31, 70)
    np.testing.assert_array_equal(results[1].image[kept], results[0].image[kept])  # the kept fill does not flicker
    column = box(64, 96, 10, 60, 30, 31)  # seen again once the person stepped off it
    np.testing.assert_array_equal(results[1].image[column], truth[column])


def _single_order():
    """An order recovery for frames of one instance (no pairs to order)."""

    class One:
        def __call__(self, masks, image=None, *, amodal: bool = False) -> OrderResult:
            n = masks.n
            z = np.zeros((n, n), np.float32)
            return OrderResult(order=z.astype(np.int8), growth=z, layering=np.arange(n), dropped=[],
                               amodal=masks.to_numpy() if amodal else None)

    return One()


def _exemplar():
    from interorder_rt.completion import ContentCompletion

    return ContentCompletion(background="exemplar", instance="exemplar")


def test_engine_stream_forgets_the_background_at_a_camera_cut():
    from interorder_rt.engine import Engine
    from interorder_rt.eval.removal import _STAND_IN_KEYPOINTS, _Nobody

    shot_a, shot_b = textured(64, 96, 4), np.full((64, 96, 3), 60, np.uint8)
    engine = Engine(order=_single_order(), pose=_Nobody(), completion=_exemplar())
    engine.set_source(np.zeros((40, 20, 3), np.uint8), np.ones((40, 20), bool), _STAND_IN_KEYPOINTS)
    masks = [box(64, 96, 10, 60, 10, 30), box(64, 96, 10, 60, 40, 60), box(64, 96, 10, 60, 10, 30)]
    shots = [shot_a, shot_a, shot_b]  # the camera cuts before the last frame
    frames = []
    for shot, mask in zip(shots, masks):
        frame = shot.copy()
        frame[mask] = (255, 0, 255)
        frames.append({"image": frame, "masks": mask[None], "target": 0, "keypoints": _STAND_IN_KEYPOINTS})
    last = list(engine.stream(frames))[-1]
    hole = masks[2]
    assert np.abs(last.image[hole].astype(int) - 60).max() <= 1  # from the new shot, nothing of shot A


def test_plan_removal_on_the_hole_box_equals_the_whole_frame_rule():
    rng = np.random.default_rng(0)
    for _ in range(30):
        modal = rng.random((5, 30, 40)) < 0.3
        amodal = modal | (rng.random((5, 30, 40)) < 0.3)
        layering, targets = rng.permutation(5), [int(t) for t in rng.choice(5, rng.integers(0, 3), replace=False)]
        plan = plan_removal(modal, amodal, layering, targets)
        rank = np.argsort(layering)
        hole = modal[targets].any(axis=0) if targets else np.zeros((30, 40), bool)
        for k in range(5):
            front = [t for t in targets if rank[t] > rank[k]]
            freed = modal[front].any(axis=0) if front and k not in targets else np.zeros((30, 40), bool)
            np.testing.assert_array_equal(plan.revealed[k], amodal[k] & ~modal[k] & freed)
        np.testing.assert_array_equal(plan.hole, hole)
        np.testing.assert_array_equal(plan.background, hole & ~plan.revealed.any(axis=0))
