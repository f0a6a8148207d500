"""Pose transfer f_P: the protocol's validation, PartWarp's geometry and quality, keypoint converters."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from interorder_rt.keypoints import INDEX, NUM_KEYPOINTS
from interorder_rt.pose import PartWarp, PoseTransfer, SourcePerson, coco17_to_coco18, mediapipe33_to_coco18
from interorder_rt.synth import render_person, sample_identity, sample_pose

SIZE = 256


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _person(seed: int, size: int = SIZE) -> tuple[SourcePerson, object, np.ndarray]:
    """A synthetic person: (SourcePerson, identity, keypoints)."""
    rng = np.random.default_rng(seed)
    identity, keypoints = sample_identity(rng, seed), sample_pose(rng, size, size)
    rgb, mask = render_person(identity, keypoints, size, size)
    return SourcePerson(rgb, mask, keypoints), identity, keypoints


def _without(keypoints: np.ndarray, *names: str) -> np.ndarray:
    out = keypoints.copy()
    out[[INDEX[n] for n in names]] = np.nan
    return out


def _near_segment(a: np.ndarray, b: np.ndarray, radius: float, size: int = SIZE) -> np.ndarray:
    canvas = np.zeros((size, size), dtype=np.uint8)
    ends = [tuple(np.round(p).astype(int).tolist()) for p in (a, b)]
    cv2.line(canvas, *ends, 1, int(2 * radius))
    return canvas > 0


# --- geometry -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_identity_warp_reproduces_the_source_person(seed):
    source, _, keypoints = _person(seed)
    rgb, mask = PartWarp()(source, keypoints, (SIZE, SIZE))
    assert rgb.shape == (SIZE, SIZE, 3) and rgb.dtype == np.uint8 and mask.dtype == np.bool_
    assert _iou(mask, source.mask) > 0.98
    both = mask & source.mask
    assert np.abs(rgb[both].astype(int) - source.image[both]).mean() < 2.0
    assert not rgb[~mask].any()


@pytest.mark.parametrize(
    "scale, shift, size",
    [(1.0, (30.0, -20.0), (256, 256)), (0.6, (40.0, 60.0), (200, 240)), (1.5, (-60.0, -100.0), (300, 300))],
)
def test_moving_and_scaling_all_keypoints_moves_and_scales_the_person(scale, shift, size):
    source, _, keypoints = _person(3)
    moved = np.float32([[scale, 0, shift[0]], [0, scale, shift[1]]])
    expected_mask = cv2.warpAffine(source.mask.view(np.uint8), moved, size[::-1], flags=cv2.INTER_NEAREST) > 0
    expected_rgb = cv2.warpAffine(source.image, moved, size[::-1], flags=cv2.INTER_LINEAR)
    rgb, mask = PartWarp()(source, keypoints * scale + np.float32(shift), size)
    assert mask.shape == size
    assert _iou(mask, expected_mask) > 0.97
    both = mask & expected_mask
    assert np.abs(rgb[both].astype(int) - expected_rgb[both]).mean() < 8.0


def test_person_outside_the_target_frame_gives_an_empty_result():
    source, _, keypoints = _person(4)
    rgb, mask = PartWarp()(source, keypoints + 5000, (SIZE, SIZE))
    assert not mask.any() and not rgb.any()


MISSING = {
    "left arm": ("left_elbow", "left_wrist"),
    "right leg": ("right_knee", "right_ankle"),
    "face": ("nose", "right_eye", "left_eye", "right_ear", "left_ear"),
    "one shoulder and hip": ("left_shoulder", "right_hip"),
    "all limbs": ("right_elbow", "right_wrist", "left_elbow", "left_wrist", "right_knee", "right_ankle",
                  "left_knee", "left_ankle"),
}


@pytest.mark.parametrize("side", ["source", "target"])
@pytest.mark.parametrize("missing", list(MISSING), ids=list(MISSING))
def test_missing_keypoints_in_either_pose_give_a_sane_person(side, missing):
    source, identity, a = _person(5)
    b = sample_pose(np.random.default_rng(50), SIZE, SIZE)
    if side == "source":
        source = SourcePerson(source.image, source.mask, _without(a, *MISSING[missing]))
    else:
        b = _without(b, *MISSING[missing])
    rgb, mask = PartWarp()(source, b, (SIZE, SIZE))
    _, truth = render_person(identity, b, SIZE, SIZE)
    assert 0.3 < mask.sum() / truth.sum() < 3.0
    assert _iou(mask, truth) > 0.4
    assert not rgb[~mask].any()


def test_random_missing_and_degenerate_keypoints_never_crash():
    rng = np.random.default_rng(11)
    warp = PartWarp()
    for seed in range(12):
        source, _, a = _person(seed, 96)
        b = sample_pose(rng, 96, 96)
        for pose in (a, b):
            pose[rng.random(NUM_KEYPOINTS) < 0.5] = np.nan
            pose[INDEX["neck"]] = 48.0
            pose[INDEX["right_shoulder"]] = (40.0, 50.0)
            pose[INDEX["left_hip"]] = (52.0, 80.0)
        b[INDEX["right_elbow"]] = b[INDEX["right_wrist"]]  # a zero-length bone, where present
        source = SourcePerson(source.image, source.mask, a)
        size = (int(rng.integers(8, 160)), int(rng.integers(8, 160)))
        rgb, mask = warp(source, b, size)
        assert rgb.shape == (*size, 3) and mask.shape == size and not rgb[~mask].any()


def test_a_limb_missing_in_the_source_is_read_from_its_mirror():
    source, _, a = _person(6)
    # Target: the source pose with the left arm held straight out sideways, clear of the body.
    b = a.copy()
    shoulder = a[INDEX["left_shoulder"]]
    outward = np.float32([np.sign(shoulder[0] - a[INDEX["neck"], 0]), 0.0])
    length = float(np.hypot(*(a[INDEX["left_elbow"]] - shoulder)))
    b[INDEX["left_elbow"]], b[INDEX["left_wrist"]] = shoulder + outward * length, shoulder + 2 * outward * length
    forearm = _near_segment(b[INDEX["left_elbow"]], b[INDEX["left_wrist"]], 2.0)
    one_armed = _without(a, "left_elbow", "left_wrist")
    no_arms = _without(one_armed, "right_elbow", "right_wrist")
    _, mirrored = PartWarp()(SourcePerson(source.image, source.mask, one_armed), b, (SIZE, SIZE))
    _, skipped = PartWarp()(SourcePerson(source.image, source.mask, no_arms), b, (SIZE, SIZE))
    assert (mirrored & forearm).sum() > 0.9 * forearm.sum()
    assert (skipped & forearm).sum() < 0.1 * forearm.sum()


def test_source_analysis_is_cached_per_source_person():
    source, _, a = _person(7)
    warp = PartWarp()
    first = warp.source_parts(source)
    assert warp.source_parts(source) is first
    assert warp.source_parts(SourcePerson(source.image, source.mask, a)) is not first


# --- quality against synthetic ground truth ---------------------------------------------------


def test_warped_silhouette_matches_the_rendered_target_pose():
    """Identity X from pose A to pose B against render_person(X, B), over 50 random pose pairs."""
    rng = np.random.default_rng(2024)
    warp = PartWarp()
    ious = []
    for k in range(50):
        identity, a, b = sample_identity(rng, k), sample_pose(rng, SIZE, SIZE), sample_pose(rng, SIZE, SIZE)
        _, truth = render_person(identity, b, SIZE, SIZE)
        _, mask = warp(SourcePerson(*render_person(identity, a, SIZE, SIZE), a), b, (SIZE, SIZE))
        ious.append(_iou(mask, truth))
    assert np.mean(ious) > 0.8
    assert np.min(ious) > 0.5


# --- validation ---------------------------------------------------------------------------------


def test_part_warp_implements_the_protocol():
    assert isinstance(PartWarp(), PoseTransfer)


def test_source_person_is_a_read_only_copy():
    source, _, a = _person(8)
    image = source.image.copy()
    person = SourcePerson(image, source.mask.copy(), a)
    image[:] = 0
    assert person.image.any()
    with pytest.raises(ValueError):
        person.keypoints[0, 0] = 1.0


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(image=np.zeros((32, 32, 3), np.float32)), TypeError, "uint8"),
        (dict(image=np.zeros((32, 32), np.uint8)), ValueError, r"\(H, W, 3\)"),
        (dict(mask=np.ones((32, 32), np.uint8)), TypeError, "bool"),
        (dict(mask=np.ones((32, 31), bool)), ValueError, "does not match"),
        (dict(mask=np.zeros((32, 32), bool)), ValueError, "empty"),
        (dict(keypoints=np.zeros((17, 2))), ValueError, r"\(18, 2\)"),
        (dict(keypoints="neck"), ValueError, "neck"),
        (dict(keypoints=("right_shoulder", "left_shoulder")), ValueError, "right_shoulder or left_shoulder"),
        (dict(keypoints=("right_hip", "left_hip")), ValueError, "right_hip or left_hip"),
    ],
)
def test_bad_source_person_raises(change, error, match):
    fields = dict(image=np.zeros((32, 32, 3), np.uint8), mask=np.ones((32, 32), bool),
                  keypoints=np.full((NUM_KEYPOINTS, 2), 10.0, np.float32))
    if isinstance(change.get("keypoints"), (str, tuple)):
        names = change.pop("keypoints")
        change["keypoints"] = _without(fields["keypoints"], *((names,) if isinstance(names, str) else names))
    fields.update(change)
    with pytest.raises(error, match=match):
        SourcePerson(**fields)


def test_bad_call_arguments_raise():
    source, _, a = _person(9)
    warp = PartWarp()
    with pytest.raises(TypeError, match="SourcePerson"):
        warp((source.image, source.mask, a), a, (SIZE, SIZE))
    with pytest.raises(ValueError, match="target keypoints lack right_hip or left_hip"):
        warp(source, _without(a, "right_hip", "left_hip"), (SIZE, SIZE))
    with pytest.raises(ValueError, match="infinite"):
        warp(source, np.where(np.isnan(a), np.inf, a), (SIZE, SIZE))
    with pytest.raises(TypeError, match="size"):
        warp(source, a, SIZE)
    with pytest.raises(ValueError, match="positive"):
        warp(source, a, (0, SIZE))
    with pytest.raises(ValueError, match="blend_width"):
        PartWarp(blend_width=0)
    with pytest.raises(ValueError, match="min_blend_weight"):
        PartWarp(min_blend_weight=1.5)


# --- keypoint formats -------------------------------------------------------------------------

COCO17 = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
          "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
          "right_knee", "left_ankle", "right_ankle")


def test_coco17_to_coco18_reorders_and_adds_the_neck():
    kp17 = np.stack([np.arange(17) * 10.0, np.arange(17) + 100.0], axis=1)
    kp18 = coco17_to_coco18(kp17)
    assert kp18.shape == (18, 2) and kp18.dtype == np.float32
    for i, name in enumerate(COCO17):
        np.testing.assert_array_equal(kp18[INDEX[name]], kp17[i])
    np.testing.assert_allclose(kp18[INDEX["neck"]], (kp17[5] + kp17[6]) / 2)


def test_coco17_visibility_marks_missing_points_and_the_neck_needs_both_shoulders():
    flat = np.column_stack([np.arange(17) * 10.0, np.arange(17) + 100.0, np.full(17, 2.0)])
    flat[5, 2] = 0  # left shoulder not labelled
    flat[0, 2] = 0.3  # a low detector score
    kp18 = coco17_to_coco18(flat.reshape(-1))
    assert np.isnan(kp18[INDEX["left_shoulder"]]).all() and np.isnan(kp18[INDEX["neck"]]).all()
    assert not np.isnan(kp18[INDEX["nose"]]).any()
    assert np.isnan(coco17_to_coco18(flat, min_score=0.5)[INDEX["nose"]]).all()
    with pytest.raises(ValueError, match="COCO-17"):
        coco17_to_coco18(np.zeros((18, 2)))


def test_mediapipe33_to_coco18_scales_to_pixels_and_drops_invisible_landmarks():
    landmarks = np.column_stack([np.linspace(0.1, 0.9, 33), np.linspace(0.2, 0.8, 33), np.zeros(33), np.ones(33)])
    landmarks[14, 3] = 0.1  # right elbow not visible
    kp18 = mediapipe33_to_coco18(landmarks, 640, 480)
    np.testing.assert_allclose(kp18[INDEX["nose"]], (landmarks[0, 0] * 640, landmarks[0, 1] * 480), rtol=1e-6)
    np.testing.assert_allclose(kp18[INDEX["left_hip"]], (landmarks[23, 0] * 640, landmarks[23, 1] * 480), rtol=1e-6)
    np.testing.assert_allclose(kp18[INDEX["right_ear"]], (landmarks[8, 0] * 640, landmarks[8, 1] * 480), rtol=1e-6)
    np.testing.assert_allclose(kp18[INDEX["neck"]], (kp18[INDEX["left_shoulder"]] + kp18[INDEX["right_shoulder"]]) / 2)
    assert np.isnan(kp18[INDEX["right_elbow"]]).all()
    objects = SimpleNamespace(landmark=[SimpleNamespace(x=x, y=y, z=z, visibility=v) for x, y, z, v in landmarks])
    np.testing.assert_array_equal(mediapipe33_to_coco18(objects, 640, 480), kp18)
    with pytest.raises(ValueError, match="33"):
        mediapipe33_to_coco18(np.zeros((17, 4)), 640, 480)
    with pytest.raises(ValueError, match="positive"):
        mediapipe33_to_coco18(landmarks, 0, 480)
