"""The transfer evaluation's measures: image metrics against closed forms, and the output-order
check on painted synthetic frames whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt.compose import paste_on_top
from interorder_rt.eval.image_metrics import l1, mask_ssim, psnr, ssim
from interorder_rt.eval.transfer import relation_pairs
from interorder_rt.synth import make_transfer_pair


def constant(value: int, shape=(16, 16, 3)) -> np.ndarray:
    return np.full(shape, value, dtype=np.uint8)


def test_ssim_of_two_flat_images_has_its_closed_form():
    a, b, c1 = 100.0, 140.0, (0.01 * 255) ** 2
    assert ssim(constant(100), constant(140)) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1))
    assert ssim(constant(77), constant(77)) == pytest.approx(1.0)


def test_psnr_and_l1_of_a_constant_offset():
    assert psnr(constant(50), constant(60)) == pytest.approx(10 * np.log10(255.0**2 / 100.0))
    assert psnr(constant(50), constant(50)) == float("inf")
    assert l1(constant(50), constant(60)) == pytest.approx(10.0)


def test_mask_ssim_looks_only_inside_the_mask():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    b = a.copy()
    b[:, 16:] = rng.integers(0, 256, (32, 16, 3), dtype=np.uint8)
    mask = np.zeros((32, 32), dtype=bool)
    mask[8:24, 2:8] = True  # well away from the changed half: the Gaussian window does not reach it
    assert mask_ssim(a, b, mask) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="non-empty"):
        mask_ssim(a, b, np.zeros((32, 32), dtype=bool))
    with pytest.raises(ValueError, match="shape"):
        ssim(a, b[:16])


MAGENTA = (255, 0, 255)  # far from every colour of the scenes: every conflict pixel is decidable


def magenta_person(pair) -> tuple[np.ndarray, np.ndarray]:
    """The transferred person as a flat magenta figure in X's ground-truth silhouette."""
    rgb = np.zeros_like(pair.reference.image)
    rgb[...] = MAGENTA
    return rgb, pair.target.instances[pair.reference_index].amodal


def test_output_order_counts_what_the_output_shows():
    for seed in range(100):  # a pair where the new person meets an occluder of Y and an instance Y hid
        pair = make_transfer_pair(seed, setting="objects", height=96, width=96)
        ref, y = pair.reference, pair.reference_index
        person_rgb, person_mask = magenta_person(pair)
        args = (ref, pair.target, y, person_rgb, person_mask)
        on_top = paste_on_top(ref.image, person_rgb, person_mask)
        front_correct, front_counted = relation_pairs(on_top, *args, in_front=True)
        behind_correct, behind_counted = relation_pairs(on_top, *args, in_front=False)
        if front_counted and behind_counted:
            break
    else:
        raise RuntimeError("no pair in seeds 0..99 where the new person meets instances on both sides")
    assert (front_correct, behind_correct) == (0, behind_counted)  # pasted on top: every occluder is lost

    occluders = ref.modal[ref.order[:, y] == 1].any(axis=0)
    layered = paste_on_top(ref.image, person_rgb, person_mask & ~occluders)
    assert relation_pairs(layered, *args, in_front=True) == (front_counted, front_counted)
    assert relation_pairs(layered, *args, in_front=False) == (behind_counted, behind_counted)


def test_the_pose_stage_of_the_transfer_evaluation_is_chosen_by_name():
    from interorder_rt.eval.transfer import pose_stage
    from interorder_rt.pose import PartWarp
    from interorder_rt.pose.mesh_warp import MeshWarp

    assert isinstance(pose_stage("mesh"), MeshWarp) and isinstance(pose_stage("part"), PartWarp)
    with pytest.raises(ValueError, match="pose stage"):
        pose_stage("global")


def test_the_transfer_evaluation_offers_every_instance_filler_of_the_completion_stage():
    from interorder_rt.completion import FILLERS
    from interorder_rt.eval.transfer import INSTANCE_FILLERS

    assert sorted(INSTANCE_FILLERS) == sorted(FILLERS)
