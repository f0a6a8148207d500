"""Frames from segmenter outputs (ultralytics, detectron2, COCO results, plain masks).

ultralytics does not install here without a CUDA build of torch and torchvision, and detectron2
has no wheel: both are tested with objects shaped exactly like theirs (ultralytics'
``Results``/``Boxes``/``Masks``/``Keypoints`` attributes, detectron2's ``Instances`` fields),
built from a synthetic scene whose masks and keypoints are known.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from interorder_rt.frame import Frame
from interorder_rt.io.adapters import COCO17_NAMES, to_coco18
from interorder_rt.keypoints import KEYPOINT_NAMES
from interorder_rt.synth import make_transfer_pair

H, W = 120, 160
pytestmark = pytest.mark.filterwarnings("ignore:masks are .* resized to the image")


@pytest.fixture(scope="module")
def scene():
    """A reference scene with two persons (with keypoints) and objects."""
    for seed in range(40):
        scene = make_transfer_pair(seed, setting="persons", height=H, width=W).reference
        if sum(inst.category == "person" for inst in scene.instances) >= 2:
            return scene
    raise RuntimeError("no scene with two persons")


def persons(scene) -> list[int]:
    return [k for k, inst in enumerate(scene.instances) if inst.category == "person"]


def coco17(kp18: np.ndarray, score: float = 0.9) -> np.ndarray:
    """(17, 3) x, y, score of COCO-18 keypoints (missing points score 0)."""
    out = np.zeros((17, 3), np.float32)
    for k, name in enumerate(COCO17_NAMES):
        point = kp18[KEYPOINT_NAMES.index(name)]
        if not np.isnan(point).any():
            out[k] = (*point, score)
    return out


def letterbox(masks: np.ndarray, size: int = 96) -> np.ndarray:
    """Masks as a YOLO model sees them: scaled to fit ``size`` x ``size``, centred, padded."""
    gain = min(size / H, size / W)
    h, w = round(H * gain), round(W * gain)
    top, left = (size - h) // 2, (size - w) // 2
    out = np.zeros((len(masks), size, size), np.float32)
    for k, m in enumerate(masks):
        out[k, top:top + h, left:left + w] = cv2.resize(m.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


# Shaped like ultralytics.engine.results: Boxes.data is (N, 6) x1, y1, x2, y2, conf, cls;
# Keypoints.data is (N, K, 3) x, y, conf (xy and conf are views of it); Masks.data is (N, h, w).
def ultralytics_boxes(boxes: np.ndarray, classes: list[int]) -> SimpleNamespace:
    data = torch.tensor(np.column_stack([boxes, np.full(len(boxes), 0.9), classes]), dtype=torch.float32)
    return SimpleNamespace(data=data, xyxy=data[:, :4], conf=data[:, -2], cls=data[:, -1])


def ultralytics_keypoints(points: np.ndarray) -> SimpleNamespace:
    data = torch.tensor(points, dtype=torch.float32)
    return SimpleNamespace(data=data, xy=data[..., :2], conf=data[..., 2])


def mask_boxes(masks: np.ndarray) -> np.ndarray:
    boxes = []
    for m in masks:
        ys, xs = np.nonzero(m)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    return np.array(boxes, np.float32)


def ultralytics_segment(scene, *, with_keypoints: bool) -> SimpleNamespace:
    classes = [0 if inst.category == "person" else 56 for inst in scene.instances]
    kp = None
    if with_keypoints:
        kp = ultralytics_keypoints(np.stack([coco17(inst.keypoints) if inst.keypoints is not None
                                             else np.zeros((17, 3), np.float32) for inst in scene.instances]))
    return SimpleNamespace(
        orig_img=np.ascontiguousarray(scene.image[..., ::-1]), orig_shape=(H, W), names={0: "person", 56: "chair"},
        boxes=ultralytics_boxes(mask_boxes(scene.modal), classes),
        masks=SimpleNamespace(data=torch.from_numpy(letterbox(scene.modal))), keypoints=kp,
    )


def ultralytics_pose(scene, order: list[int]) -> SimpleNamespace:
    return SimpleNamespace(
        orig_img=scene.image[..., ::-1], names={0: "person"}, masks=None,
        boxes=ultralytics_boxes(mask_boxes(scene.modal[order]), [0] * len(order)),
        keypoints=ultralytics_keypoints(np.stack([coco17(scene.instances[k].keypoints) for k in order])),
    )


NECK, SHOULDERS = KEYPOINT_NAMES.index("neck"), [KEYPOINT_NAMES.index(n) for n in ("right_shoulder", "left_shoulder")]


def assert_same_keypoints(got: np.ndarray, expected: np.ndarray) -> None:
    """The same COCO-18 points, but the neck, which COCO-17 lacks: it is rebuilt between the shoulders."""
    expected = expected.copy()
    expected[NECK] = expected[SHOULDERS].mean(axis=0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(expected), atol=1e-4)


def test_ultralytics_segment_and_pose_in_one_result_round_trip(scene):
    with pytest.warns(UserWarning, match="masks are 96x96, the image is 160x120: masks resized"):
        frame = Frame.from_ultralytics(ultralytics_segment(scene, with_keypoints=True), target="all").checked()
    np.testing.assert_array_equal(frame.image, scene.image)
    assert frame.masks.shape == scene.modal.shape
    assert min(iou(a, b) for a, b in zip(frame.masks, scene.modal)) > 0.8
    assert frame.target == tuple(persons(scene))
    for t, kp in zip(frame.target, frame.keypoints):
        assert_same_keypoints(kp, scene.instances[t].keypoints)


def test_ultralytics_keypoints_from_a_second_model_are_matched_by_box(scene):
    people = persons(scene)
    pose = ultralytics_pose(scene, people[::-1])  # the pose model lists the people in another order
    frame = Frame.from_ultralytics(ultralytics_segment(scene, with_keypoints=False), pose=pose, target="all")
    assert tuple(frame.target) == tuple(people)
    for t, kp in zip(frame.target, frame.keypoints):
        assert_same_keypoints(kp, scene.instances[t].keypoints)


def test_a_person_the_pose_model_missed_has_no_keypoints(scene):
    people = persons(scene)
    pose = ultralytics_pose(scene, people[:1])
    segment = ultralytics_segment(scene, with_keypoints=False)
    frame = Frame.from_ultralytics(segment, pose=pose, target="all")
    assert list(frame.target) == people[:1]
    with pytest.raises(ValueError, match=f"target instance {people[1]} has no keypoints"):
        Frame.from_ultralytics(segment, pose=pose, target=people[1])
    assert Frame.from_ultralytics(segment, target="largest").target == []  # no pose at all: no one to replace


def test_low_confidence_keypoints_are_missing(scene):
    result = ultralytics_segment(scene, with_keypoints=True)
    p = persons(scene)[0]
    result.keypoints.conf[p, COCO17_NAMES.index("left_wrist")] = 0.3
    frame = Frame.from_ultralytics(result, target=p)
    kp = frame.keypoints[0]
    assert np.isnan(kp[KEYPOINT_NAMES.index("left_wrist")]).all()
    assert not np.isnan(kp[KEYPOINT_NAMES.index("right_wrist")]).any()


def test_a_keypoint_model_with_fewer_points_needs_their_names_and_leaves_the_rest_missing(scene):
    body = [name for name in COCO17_NAMES if "eye" not in name and "ear" not in name]  # 13 points
    p = persons(scene)[0]
    points17 = coco17(scene.instances[p].keypoints)
    points = points17[[COCO17_NAMES.index(n) for n in body]]
    kp = to_coco18(points[:, :2], points[:, 2], body, 0.5)
    for name in KEYPOINT_NAMES:
        if "eye" in name or "ear" in name:
            assert np.isnan(kp[KEYPOINT_NAMES.index(name)]).all()
        elif name != "nose":
            np.testing.assert_array_equal(np.isnan(kp[KEYPOINT_NAMES.index(name)]),
                                          np.isnan(scene.instances[p].keypoints[KEYPOINT_NAMES.index(name)]))
    result = ultralytics_segment(scene, with_keypoints=True)
    result.keypoints = ultralytics_keypoints(np.repeat(points[None], scene.n, axis=0))
    with pytest.raises(ValueError, match="gives 13 points but 17 keypoint names"):
        Frame.from_ultralytics(result)
    frame = Frame.from_ultralytics(result, keypoint_names=body, target=p)
    assert_same_keypoints(frame.keypoints[0], kp)


def detectron2_instances(scene, *, with_keypoints: bool = True) -> SimpleNamespace:
    """Shaped like detectron2.structures.Instances of a Mask/Keypoint R-CNN (fields as torch tensors)."""
    fields = dict(
        image_size=(H, W),
        pred_masks=torch.from_numpy(scene.modal.copy()),
        pred_classes=torch.tensor([0 if inst.category == "person" else 1 for inst in scene.instances]),
        scores=torch.full((scene.n,), 0.9),
        pred_boxes=SimpleNamespace(tensor=torch.from_numpy(mask_boxes(scene.modal))),
    )
    if with_keypoints:
        fields["pred_keypoints"] = torch.from_numpy(np.stack([
            coco17(inst.keypoints, score=2.0) if inst.keypoints is not None else np.zeros((17, 3), np.float32)
            for inst in scene.instances]))
    return SimpleNamespace(**fields)


def test_detectron2_instances_round_trip(scene):
    frame = Frame.from_detectron2(detectron2_instances(scene), scene.image, target="all").checked()
    np.testing.assert_array_equal(frame.masks, scene.modal)
    assert frame.target == tuple(persons(scene))
    for t, kp in zip(frame.target, frame.keypoints):
        assert_same_keypoints(kp, scene.instances[t].keypoints)
    names = ["person", "bicycle"]
    largest = Frame.from_detectron2(detectron2_instances(scene), scene.image, class_names=names)
    areas = {k: scene.modal[k].sum() for k in persons(scene)}
    assert largest.target == [max(areas, key=areas.get)]


def test_detectron2_keypoints_from_a_separate_keypoint_model(scene):
    people = persons(scene)
    masks_only = detectron2_instances(scene, with_keypoints=False)
    keypoint_rcnn = SimpleNamespace(
        pred_keypoints=torch.from_numpy(np.stack([coco17(scene.instances[k].keypoints, 2.0) for k in people[::-1]])),
        pred_boxes=SimpleNamespace(tensor=torch.from_numpy(mask_boxes(scene.modal[people[::-1]]))),
    )
    frame = Frame.from_detectron2(masks_only, scene.image, pose=keypoint_rcnn, target="all")
    assert list(frame.target) == people
    for t, kp in zip(frame.target, frame.keypoints):
        assert_same_keypoints(kp, scene.instances[t].keypoints)


def rle(mask: np.ndarray) -> dict:
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def test_coco_results_with_separate_segm_and_keypoint_entries(scene):
    people = persons(scene)
    results = [{"image_id": 7, "category_id": 1 if inst.category == "person" else 62, "segmentation": rle(m),
                "score": 0.9} for inst, m in zip(scene.instances, scene.modal)]
    for k in people[::-1]:
        x0, y0, x1, y1 = mask_boxes(scene.modal[k:k + 1])[0]
        results.append({"image_id": 7, "category_id": 1, "keypoints": coco17(scene.instances[k].keypoints).ravel()
                        .tolist(), "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)], "score": 0.8})
    results.append({"image_id": 8, "category_id": 1, "segmentation": rle(scene.modal[0]), "score": 0.9})
    frame = Frame.from_coco_results(results, scene.image, image_id=7, target="all").checked()
    np.testing.assert_array_equal(frame.masks, scene.modal)
    assert frame.target == tuple(people)
    for t, kp in zip(frame.target, frame.keypoints):
        assert_same_keypoints(kp, scene.instances[t].keypoints)


def test_plain_masks_at_half_resolution_are_resized_and_said(scene):
    small = [cv2.resize(m.astype(np.uint8), (W // 2, H // 2), interpolation=cv2.INTER_AREA) for m in scene.modal]
    keypoints = [None if inst.keypoints is None else coco17(inst.keypoints) for inst in scene.instances]
    with pytest.warns(UserWarning, match="masks are 80x60, the image is 160x120"):
        frame = Frame.from_masks(scene.image, small, keypoints=keypoints, target="all").checked()
    assert frame.masks.shape == scene.modal.shape
    assert min(iou(a, b) for a, b in zip(frame.masks, scene.modal)) > 0.7
    assert frame.target == tuple(persons(scene))


def test_empty_masks_are_dropped_and_targets_reindexed(scene):
    masks = np.concatenate([np.zeros((1, H, W), bool), scene.modal])
    keypoints = [None] + [inst.keypoints for inst in scene.instances]
    p = persons(scene)[0]
    frame = Frame.from_masks(scene.image, masks, keypoints=keypoints, target=p + 1).checked()
    assert frame.masks.shape[0] == scene.n and frame.target == (p,)
    with pytest.raises(ValueError, match="target instance 0 has an empty mask"):
        Frame.from_masks(scene.image, masks, keypoints=keypoints, target=0)
    with pytest.raises(ValueError, match="target must be an index"):
        Frame.from_masks(scene.image, masks, keypoints=keypoints, target="biggest")


def test_an_ultralytics_result_without_detections_is_an_empty_frame(scene):
    empty = SimpleNamespace(orig_img=scene.image[..., ::-1], names={0: "person"}, masks=None, keypoints=None,
                            boxes=ultralytics_boxes(np.zeros((0, 4), np.float32), []))
    frame = Frame.from_ultralytics(empty)
    assert frame.masks.shape == (0, H, W) and frame.target == []
    boxes_only = ultralytics_segment(scene, with_keypoints=False)
    boxes_only.masks = None
    with pytest.raises(ValueError, match="no masks: run a segment model"):
        Frame.from_ultralytics(boxes_only)


def test_coco_results_at_mixed_resolutions_are_each_resized(scene):
    half = cv2.resize(scene.modal[0].astype(np.uint8), (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    results = [{"category_id": 62, "segmentation": rle(half)},
               *({"category_id": 62, "segmentation": rle(m)} for m in scene.modal[1:])]
    with pytest.warns(UserWarning, match="masks are 80x60"):
        frame = Frame.from_coco_results(results, scene.image, target=None).checked()
    np.testing.assert_array_equal(frame.masks[1:], scene.modal[1:])
    assert iou(frame.masks[0], scene.modal[0]) > 0.7


REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "real" / "coco"


@pytest.mark.skipif(not (REAL / "test_coco.json").is_file(), reason="needs ../shared/real (the real COCO photos)")
def test_real_coco_annotations_make_a_frame_the_engine_accepts():
    from interorder_rt.io.image import read_rgb

    coco = json.loads((REAL / "test_coco.json").read_text())
    image = read_rgb(REAL / "000000196141.jpg")
    frame = Frame.from_coco_results(coco["annotations"], image, image_id=196141, target="all").checked()
    assert frame.masks.shape == (5, *image.shape[:2])
    assert len(frame.target) == 4  # the fifth person has no labelled keypoint
    for kp in frame.keypoints:
        assert not np.isnan(kp[KEYPOINT_NAMES.index("neck")]).any()
