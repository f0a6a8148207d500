"""Synthetic scenes: determinism, exact ground truth, transfer pairs, sequences and the preview CLI."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from interorder_rt.keypoints import INDEX, visible
from interorder_rt.ops import MaskSet, order_from_amodal
from interorder_rt.synth import (Identity, Layer, Scene, generate_scene, make_sequence, make_transfer_pair,
                                 render_person, sample_identity, sample_pose)
from interorder_rt.synth.layers import min_occlusion_pixels, min_visible_pixels
from interorder_rt.synth.person import body_height
from interorder_rt.synth.pose_prior import keypoints_in_image
from interorder_rt.synth.scene import drop_slivers

SEEDS = range(20)


def _square(size: int, y0: int, x0: int, y1: int, x1: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _disk(size: int, cx: float, cy: float, r: float) -> np.ndarray:
    ys, xs = np.mgrid[:size, :size]
    return (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r


def _blank(size: int) -> np.ndarray:
    return np.zeros((size, size, 3), dtype=np.uint8)


# --- determinism -------------------------------------------------------------------------------

def test_generate_scene_is_deterministic_from_its_seed():
    a, b, c = generate_scene(7), generate_scene(7), generate_scene(8)
    assert np.array_equal(a.image, b.image)
    assert np.array_equal(a.amodal, b.amodal) and np.array_equal(a.modal, b.modal)
    assert np.array_equal(a.order, b.order) and np.array_equal(a.depth, b.depth)
    assert [i.instance_id for i in a.instances] == [i.instance_id for i in b.instances]
    assert not np.array_equal(a.image, c.image)


def test_generate_scene_takes_a_generator_and_any_size():
    scene = generate_scene(np.random.default_rng(3), height=96, width=160, n_persons=1, n_objects=(1, 2))
    assert scene.image.shape == (96, 160, 3) and scene.image.dtype == np.uint8
    assert scene.modal.shape == (scene.n, 96, 160)
    assert 1 <= scene.n <= 3
    assert sum(i.category == "person" for i in scene.instances) <= 1


def test_generate_scene_rejects_bad_arguments():
    with pytest.raises(TypeError, match="seed"):
        generate_scene("0")
    with pytest.raises(ValueError, match="non-negative"):
        generate_scene(-1)
    with pytest.raises(ValueError, match="n_objects"):
        generate_scene(0, n_objects=(3, 1))
    with pytest.raises(ValueError, match="width"):
        generate_scene(0, width=16)


def test_person_rendered_twice_is_pixel_identical():
    rng = np.random.default_rng(0)
    identity, pose = sample_identity(rng, 4), sample_pose(rng, 256, 256)
    rgb_a, mask_a = render_person(identity, pose, 256, 256)
    rgb_b, mask_b = render_person(identity, pose.copy(), 256, 256)
    assert mask_a.any()
    assert np.array_equal(rgb_a, rgb_b) and np.array_equal(mask_a, mask_b)
    assert not rgb_a[~mask_a].any(), "rgb must be 0 outside the mask"
    assert sample_identity(np.random.default_rng(0), 4) == identity


def test_identity_keeps_its_colours_in_another_pose():
    rng = np.random.default_rng(1)
    identity = sample_identity(rng, 0)
    other = sample_identity(rng, 1)
    pose_a, pose_b = sample_pose(rng, 256, 256), sample_pose(rng, 256, 256)

    def palette(ident: Identity, pose: np.ndarray) -> set[tuple[int, int, int]]:
        rgb, mask = render_person(ident, pose, 256, 256)
        colours = rgb[mask] // 32  # coarse bins absorb the shading
        values, counts = np.unique(colours, axis=0, return_counts=True)
        return {tuple(v) for v, c in zip(values, counts) if c >= 0.05 * mask.sum()}

    reference = palette(identity, pose_a)
    assert len(reference & palette(identity, pose_b)) > len(reference & palette(other, pose_b))


def test_render_person_skips_missing_parts():
    rng = np.random.default_rng(2)
    identity, pose = sample_identity(rng, 0), sample_pose(rng, 256, 256)
    _, full = render_person(identity, pose, 256, 256)
    armless = pose.copy()
    armless[[INDEX["right_elbow"], INDEX["right_wrist"], INDEX["left_elbow"], INDEX["left_wrist"]]] = np.nan
    _, partial = render_person(identity, armless, 256, 256)
    assert 0 < partial.sum() < full.sum()
    rgb, none = render_person(identity, np.full((18, 2), np.nan, np.float32), 256, 256)
    assert not none.any() and not rgb.any()


def test_render_person_rejects_bad_input():
    identity = sample_identity(np.random.default_rng(0), 0)
    with pytest.raises(ValueError, match="shape"):
        render_person(identity, np.zeros((17, 2)), 64, 64)
    with pytest.raises(TypeError, match="Identity"):
        render_person("someone", np.zeros((18, 2)), 64, 64)
    with pytest.raises(ValueError, match="height"):
        render_person(identity, np.zeros((18, 2)), 8, 64)


# --- hand-built scenes with exact ground truth -----------------------------------------------------

def test_two_squares():
    back, front = _square(64, 10, 10, 40, 40), _square(64, 25, 25, 55, 55)
    scene = Scene.from_layers(_blank(64), [Layer(back, (200, 0, 0)), Layer(front, (0, 200, 0))])
    assert np.array_equal(scene.modal[0], back & ~front) and np.array_equal(scene.modal[1], front)
    assert np.array_equal(scene.amodal, np.stack([back, front]))
    assert scene.order.tolist() == [[0, -1], [1, 0]]
    assert scene.depth.tolist() == [0, 1] and scene.layering.tolist() == [0, 1]
    assert tuple(scene.image[30, 30]) == (0, 200, 0) and tuple(scene.image[15, 15]) == (200, 0, 0)
    assert tuple(scene.instances[0].rgb[30, 30]) == (200, 0, 0), "full appearance is kept under the occluder"


def test_ring_in_front_of_a_disk_hides_its_rim():
    disk = _disk(64, 32, 32, 12)
    ring = _disk(64, 32, 32, 16) & ~_disk(64, 32, 32, 8)
    scene = Scene.from_layers(_blank(64), [Layer(disk, (255, 0, 0)), Layer(ring, (0, 0, 255))])
    assert np.array_equal(scene.modal[0], disk & ~ring)
    assert scene.order[1, 0] == 1 and scene.order[0, 1] == -1


def test_disk_inside_a_ring_hole_without_contact_has_no_order():
    ring = _disk(64, 32, 32, 16) & ~_disk(64, 32, 32, 10)
    disk = _disk(64, 32, 32, 6)
    scene = Scene.from_layers(_blank(64), [Layer(ring, (255, 0, 0)), Layer(disk, (0, 0, 255))])
    assert not scene.order.any()


def test_touching_without_overlap_has_no_order():
    left, right = _square(32, 5, 5, 20, 15), _square(32, 5, 15, 20, 25)
    scene = Scene.from_layers(_blank(32), [Layer(left, (9, 9, 9)), Layer(right, (99, 99, 99))])
    assert MaskSet(scene.modal).bordering_matrix()[0, 1]
    assert not scene.order.any()


def test_chain_a_over_b_over_c():
    c = _square(64, 10, 5, 30, 25)
    b = _square(64, 15, 20, 35, 40)
    a = _square(64, 20, 35, 40, 58)  # overlaps b only
    scene = Scene.from_layers(_blank(64), [Layer(c, (1, 1, 1), instance_id=30), Layer(b, (2, 2, 2), instance_id=20),
                                           Layer(a, (3, 3, 3), instance_id=10)])
    assert scene.order.tolist() == [[0, -1, 0], [1, 0, -1], [0, 1, 0]]
    assert np.array_equal(scene.modal[1], b & ~a)
    assert np.array_equal(scene.modal[0], c & ~b)
    assert [i.instance_id for i in scene.instances] == [30, 20, 10]
    shuffled = scene.reindexed([2, 0, 1])
    assert shuffled.depth.tolist() == [2, 0, 1] and shuffled.layering.tolist() == [1, 2, 0]
    assert shuffled.order[0, 2] == 1 and shuffled.order[2, 1] == 1 and shuffled.order[0, 1] == 0
    assert shuffled.index_of(20) == 2


def test_drop_slivers_removes_occluders_that_hide_a_few_pixels():
    base, sliver = _square(32, 5, 5, 20, 20), _square(32, 19, 19, 25, 25)  # hides 1 pixel of base
    deep = _square(32, 10, 10, 25, 25)
    layers = [Layer(base, (1, 1, 1)), Layer(sliver, (2, 2, 2))]
    assert drop_slivers(layers, 4) == layers[:1]
    assert drop_slivers(layers, 1) == layers
    assert len(drop_slivers([Layer(base, (1, 1, 1)), Layer(deep, (2, 2, 2))], 4)) == 2
    person_on_top = [layers[0], Layer(sliver, (2, 2, 2), category="person")]
    assert drop_slivers(person_on_top, 4) == person_on_top[1:], "persons are kept over objects"


def test_from_layers_rejects_bad_layers():
    good = _square(16, 2, 2, 8, 8)
    with pytest.raises(ValueError, match="shape"):
        Scene.from_layers(_blank(16), [Layer(np.zeros((8, 8), dtype=bool), (1, 2, 3))])
    with pytest.raises(TypeError, match="bool"):
        Scene.from_layers(_blank(16), [Layer(good.astype(np.uint8), (1, 2, 3))])
    with pytest.raises(ValueError, match="category"):
        Scene.from_layers(_blank(16), [Layer(good, (1, 2, 3), category="animal")])
    with pytest.raises(ValueError, match="rgb"):
        Scene.from_layers(_blank(16), [Layer(good, np.zeros((16, 16, 3), dtype=np.float32))])
    with pytest.raises(ValueError, match="background"):
        Scene.from_layers(np.zeros((16, 16), dtype=np.uint8), [])
    with pytest.raises(ValueError, match="permutation"):
        Scene.from_layers(_blank(16), [Layer(good, (1, 2, 3))]).reindexed([1])


# --- generated scenes obey the ground-truth definitions -------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_generated_order_is_the_amodal_rule(seed):
    scene = generate_scene(seed)
    bordering = MaskSet(scene.modal).bordering_matrix()
    assert np.array_equal(order_from_amodal(scene.modal, scene.amodal, bordering), scene.order)
    assert scene.order.dtype == np.int8 and np.array_equal(scene.order, -scene.order.T)
    fronts, backs = np.nonzero(scene.order == 1)
    assert (scene.depth[fronts] > scene.depth[backs]).all()
    for i, j in zip(fronts, backs):
        assert (scene.modal[i] & scene.amodal[j]).sum() >= min_occlusion_pixels(256, 256), "no sliver occlusions"


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_modal_is_amodal_minus_what_is_painted_above(seed):
    scene = generate_scene(seed)
    amodal, modal = scene.amodal, scene.modal
    painted = np.zeros(scene.image.shape[:2], dtype=bool)
    assert sorted(scene.depth.tolist()) == list(range(scene.n))
    for i in range(scene.n):
        above = amodal[scene.depth > scene.depth[i]].any(axis=0)
        assert np.array_equal(modal[i], amodal[i] & ~above)
        assert modal[i].sum() >= min_visible_pixels(256, 256), "every instance stays visible"
        inst = scene.instances[i]
        assert np.array_equal(scene.image[modal[i]], inst.rgb[modal[i]])
        assert not inst.rgb[~inst.amodal].any()
        painted |= amodal[i]
    assert np.array_equal(scene.image[~painted], scene.background[~painted])
    assert len({inst.instance_id for inst in scene.instances}) == scene.n


def test_generated_scenes_hold_occlusions_and_persons_with_keypoints():
    pairs = []
    for seed in SEEDS:
        scene = generate_scene(seed)
        pairs.append(int((scene.order == 1).sum()))
        for inst in scene.instances:
            if inst.category == "person":
                kp = inst.keypoints
                assert kp.shape == (18, 2) and kp.dtype == np.float32 and inst.identity is not None
                shown = visible(kp)
                assert ((kp[shown] >= 0) & (kp[shown] < 256)).all()
            else:
                assert inst.keypoints is None and inst.identity is None
    assert np.mean(np.array(pairs) >= 2) >= 0.7, "most scenes must hold several occluding pairs"


def test_keypoints_outside_the_image_are_nan():
    pose = sample_pose(np.random.default_rng(5), 256, 256)
    shifted = pose + np.float32([200, 0])
    kept = keypoints_in_image(shifted, 256, 256)
    outside = ~visible(kept) & visible(shifted)
    assert outside.any()
    assert np.isnan(kept[outside]).all()
    assert np.array_equal(kept[visible(kept)], shifted[visible(kept)])


# --- transfer pairs ------------------------------------------------------------------------------

@pytest.mark.parametrize("setting, seed", [("objects", 0), ("objects", 1), ("persons", 2), ("persons", 3)])
def test_transfer_pair_changes_only_the_swapped_person(setting, seed):
    pair = make_transfer_pair(seed, setting=setting, height=128, width=128)
    ref, tgt, k = pair.reference, pair.target, pair.reference_index
    x = pair.source.instances[pair.source_index]
    y, moved = ref.instances[k], tgt.instances[k]
    assert x.category == y.category == moved.category == "person"
    assert moved.identity == x.identity != y.identity
    assert moved.instance_id == y.instance_id
    assert np.array_equal(moved.keypoints, y.keypoints, equal_nan=True)
    assert np.array_equal(tgt.depth, ref.depth)
    assert ref.order[k].any(), "the reference person takes part in an occlusion"
    outside = ~(y.amodal | moved.amodal)
    assert np.array_equal(tgt.image[outside], ref.image[outside])
    for a, b in zip(ref.instances, tgt.instances):
        if a is not y:
            assert np.array_equal(a.amodal, b.amodal) and a.instance_id == b.instance_id
    persons = sum(i.category == "person" for i in ref.instances)
    assert persons == (2 if setting == "persons" else 1)
    ratio = body_height(y.keypoints) / max(body_height(x.keypoints), 1e-6)
    assert 0.75 < ratio < 1.35, "source and reference persons have a similar size"


def test_transfer_pair_rejects_unknown_setting():
    with pytest.raises(ValueError, match="setting"):
        make_transfer_pair(0, setting="crowd")


# --- sequences -------------------------------------------------------------------------------------

def test_sequence_keeps_ids_and_moves_smoothly():
    frames = make_sequence(4, frames=12, height=128, width=128)
    assert len(frames) == 12
    identities: dict[int, int | None] = {}
    for scene in frames:
        ids = [inst.instance_id for inst in scene.instances]
        assert ids == sorted(ids)
        for inst in scene.instances:
            assert identities.setdefault(inst.instance_id, inst.identity) == inst.identity
    assert len(set(identities)) >= 3
    for before, after in zip(frames, frames[1:]):
        for inst in after.instances:
            prev = next((p for p in before.instances if p.instance_id == inst.instance_id), None)
            if prev is None:
                continue
            iou = (prev.amodal & inst.amodal).sum() / max((prev.amodal | inst.amodal).sum(), 1)
            assert iou > 0.5, f"instance {inst.instance_id} jumped between frames"
            if inst.keypoints is not None:
                both = visible(prev.keypoints) & visible(inst.keypoints)
                assert np.abs(prev.keypoints[both] - inst.keypoints[both]).max() < 0.08 * 128
    assert not np.array_equal(frames[0].image, frames[-1].image)
    assert np.array_equal(make_sequence(4, frames=12, height=128, width=128)[7].image, frames[7].image)


# --- preview CLI ---------------------------------------------------------------------------------

def test_synth_show_writes_a_preview_grid(tmp_path):
    from interorder_rt.cli.main import main

    out = tmp_path / "grid.png"
    assert main(["synth", "--show", str(out), "--count", "3", "--seed", "5", "--size", "96", "128"]) == 0
    grid = cv2.imread(str(out))
    assert grid is not None and grid.shape[0] > 96 * 2 and grid.shape[1] > 128 * 6
    assert main(["synth", "--show", str(out), "--count", "0"]) == 2
