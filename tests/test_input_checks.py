"""Bad input is refused where it enters, with an error naming the problem (issue 9): polygon
coordinates, annotation sizes, empty frames, degenerate or misplaced keypoints, OpenPose's (0, 0)
for a missing point, mixed mask lists, targets, indices and the Engine's own arguments.

Input that used to exhaust memory or crash runs in a child process under a memory limit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from limited_run import run_limited
from pycocotools import mask as mask_utils
from synthetic_pose import standing_pose

from interorder_rt.engine import Engine
from interorder_rt.frame import Frame
from interorder_rt.io.annotations import parse_annotation, parse_keypoints
from interorder_rt.io.coco_mask import decode_polygons, decode_rle
from interorder_rt.keypoints import INDEX, validate_keypoints
from interorder_rt.pose.formats import coco17_to_coco18
from interorder_rt.pose.protocol import SourcePerson
from interorder_rt.synth import make_transfer_pair

SIZE = 112
REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "real" / "coco"


@pytest.fixture(scope="module")
def pair():
    return make_transfer_pair(0, setting="objects", height=SIZE, width=SIZE)


@pytest.fixture(scope="module")
def engine(pair) -> Engine:
    engine = Engine()
    src = pair.source
    engine.set_source(src.image, keypoints=src.instances[pair.source_index].keypoints, masks=src.modal,
                      index=pair.source_index)
    return engine


def reference(pair, **changes) -> dict:
    ref, y = pair.reference, pair.reference_index
    return {"image": ref.image, "masks": ref.modal, "target": y, "keypoints": ref.instances[y].keypoints, **changes}


# Item 1: polygon coordinates are bounded before pycocotools rasterises them.

def test_unbounded_polygon_vertices_are_refused_not_a_crash():
    """One vertex at 1e8 took 24 GB (a SIGSEGV under a memory limit); inf and NaN too."""
    cases = {
        "1e8": [[0, 0, 1e8, 0, 1e8, 10]],
        "-1e8": [[0, 0, 10, 0, 10, -1e8]],
        "inf": [[0, 0, float("inf"), 0, 10, 10]],
        "nan": [[0, 0, 10, float("nan"), 10, 10]],
    }
    done = run_limited(f"""
import json
from interorder_rt.io.annotations import parse_annotation
from interorder_rt.io.coco_mask import decode_polygons
for name, polygons in json.loads({json.dumps(cases)!r}).items():
    for decode in (lambda: decode_polygons(polygons, 256, 256),
                   lambda: parse_annotation({{"height": 256, "width": 256, "person": 0,
                                              "instances": [{{"segmentation": polygons}}]}})):
        try:
            decode()
            print(name, "decoded")
        except ValueError as exc:
            print(name, "ValueError:", exc)
""")
    assert done.returncode == 0, done.stderr
    lines = [line.split(" (x in")[0] for line in done.stdout.splitlines()]
    in_json = "ValueError: annotation: instance 0: bad polygon segmentation:"
    for name in ("1e8", "-1e8"):
        assert lines.count(f"{name} ValueError: polygon 0 leaves the 256x256 image") == 1
        assert lines.count(f"{name} {in_json} polygon 0 leaves the 256x256 image") == 1
    for name in ("inf", "nan"):
        assert lines.count(f"{name} ValueError: polygon 0 needs finite x, y pairs, got 6 numbers") == 1
        assert lines.count(f"{name} {in_json} polygon 0 needs finite x, y pairs, got 6 numbers") == 1
    assert len(lines) == 2 * len(cases)


def test_polygons_may_reach_one_pixel_outside_the_image():
    mask = decode_polygons([[-1, -1, 33, -1, 33, 17, -1, 17]], 16, 32)
    assert mask.all()
    with pytest.raises(ValueError, match="leaves the 32x16 image"):
        decode_polygons([[-1.5, 0, 10, 0, 10, 10]], 16, 32)


def test_polygon_outlines_are_bounded():
    """Vertices inside the image can still zigzag into gigabytes of rasteriser buffers."""
    zigzag = [0, 0, 256, 0, 0, 256] * 300
    with pytest.raises(ValueError, match=r"outlines add up to 230400 pixels, more than 64 x \(height \+ width\)"):
        decode_polygons([zigzag], 256, 256)


def test_polygon_coordinates_that_overflow_a_float_are_refused():
    obj = {"height": 8, "width": 8, "instances": [{"segmentation": [[0, 0, 10**400, 0, 4, 4]]}], "person": 0}
    with pytest.raises(ValueError, match="instance 0: polygon 0: a number is too large"):
        parse_annotation(obj)


# Item 2: the annotation's size is checked before anything of that size is decoded.

BIG = {"height": 100000, "width": 100000, "person": 0,
       "instances": [{"category": "person", "segmentation": [[0, 0, 90, 0, 90, 90]],
                      "keypoints": [[10, 10]] * 18}]}


def test_a_huge_annotation_is_checked_against_the_image_before_decoding(tmp_path):
    """100000 x 100000 in a tiny JSON segfaulted ``interorder transfer`` under a 6 GB limit."""
    (tmp_path / "big.json").write_text(json.dumps(BIG))
    done = run_limited(f"""
from interorder_rt.io.annotations import load_annotation
for size in ((64, 64), None):
    try:
        load_annotation({str(tmp_path / "big.json")!r}, size=size)
        print("decoded")
    except ValueError as exc:
        print("ValueError:", exc)
""")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"ValueError: {tmp_path / 'big.json'}: the annotation is 100000x100000 but the image is 64x64",
        f"ValueError: {tmp_path / 'big.json'}: image height must lie in [1, 32768], got 100000",
    ]


def test_interorder_transfer_refuses_a_huge_annotation(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "ref.png"), np.zeros((64, 48, 3), np.uint8))
    (tmp_path / "big.json").write_text(json.dumps(BIG))
    args = ["transfer", "--source", "src.png", "--source-ann", "src.json", "--reference", str(tmp_path / "ref.png"),
            "--reference-ann", str(tmp_path / "big.json"), "-o", str(tmp_path / "out.png")]
    done = run_limited(f"import sys\nfrom interorder_rt.cli.main import main\nsys.exit(main({args!r}))")
    assert done.returncode == 2
    assert "the annotation is 100000x100000 but the image is 48x64" in done.stderr
    assert not (tmp_path / "out.png").exists()


def test_video_annotations_check_the_size_of_each_frame(tmp_path):
    from interorder_rt.io.annotations import VideoAnnotations

    (tmp_path / "clip.jsonl").write_text(json.dumps(BIG) + "\n")
    with pytest.raises(ValueError, match="clip.jsonl: frame 0: the annotation is 100000x100000 but the image is 64x64"):
        next(iter(VideoAnnotations(tmp_path / "clip.jsonl", size=(64, 64))))


def test_deeply_nested_json_is_invalid_json_not_a_recursion_error(tmp_path):
    from interorder_rt.io.annotations import load_annotation

    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ValueError, match="deep.json: not valid JSON: RecursionError"):
        load_annotation(tmp_path / "deep.json")


# Item 4: a frame with no instances comes back unchanged.

def test_an_empty_frame_returns_the_image_unchanged(engine, pair):
    image = pair.reference.image
    for masks in ([], np.zeros((0, SIZE, SIZE), bool)):
        result = engine.run(image=image, masks=masks, target=[], keypoints=[])
        np.testing.assert_array_equal(result.image, image)
        assert result.image is not image and result.targets == ()
        assert result.amodal.shape == (0, SIZE, SIZE) and result.person_masks.shape == (0, SIZE, SIZE)
        assert result.person_rgb.shape == (0, SIZE, SIZE, 3) and result.order.order.shape == (0, 0)
        assert not result.person_mask.any()


def test_a_stream_passes_empty_frames_through(engine, pair):
    full = reference(pair)
    empty = {"image": pair.reference.image, "masks": [], "target": [], "keypoints": []}
    results = list(engine.stream([full, empty, full]))
    assert len(results) == 3
    np.testing.assert_array_equal(results[1].image, pair.reference.image)
    assert results[0].targets == results[2].targets == (pair.reference_index,)
    np.testing.assert_array_equal(results[0].image, results[2].image)  # the empty frame reset the history


# Item 6: degenerate or misplaced source (and target) keypoints are refused.

def person_mask(height: int, width: int, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    mask = np.zeros((height, width), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_source_keypoints_on_one_point_are_refused(engine, pair):
    """They made the person cover the whole frame."""
    src = pair.source
    with pytest.raises(ValueError, match="source keypoints are degenerate: the neck and the hips are 0 pixels apart"):
        engine.set_source(src.image, keypoints=np.full((18, 2), 50.0, np.float32), mask=src.modal[pair.source_index])


def test_source_keypoints_far_outside_the_image_are_refused(engine, pair):
    """They made the person vanish while the old one was still removed."""
    src, k = pair.source, pair.source_index
    with pytest.raises(ValueError, match=r"source keypoints: nose at \(50\d\d.*\) lies far outside the 112x112 frame"):
        engine.set_source(src.image, keypoints=src.instances[k].keypoints + 5000, mask=src.modal[k])


def test_source_keypoints_off_the_persons_mask_are_refused():
    image = np.zeros((200, 200, 3), np.uint8)
    mask = person_mask(200, 200, (10, 10, 30, 50))  # a 20 x 40 person; its torso may lie 40 px around
    SourcePerson(image, mask, standing_pose(20, 12, 38))
    with pytest.raises(ValueError, match="source keypoints: neck at .* lies far outside the person's mask"):
        SourcePerson(image, mask, standing_pose(150, 12, 38))


def test_a_tiny_skeleton_on_a_large_mask_is_refused():
    image = np.zeros((200, 200, 3), np.uint8)
    mask = person_mask(200, 200, (80, 10, 120, 190))
    with pytest.raises(ValueError, match="do not fit the person's mask: the spine is 3.* pixels on a mask 180 pixels"):
        SourcePerson(image, mask, standing_pose(100, 50, 9))


def test_degenerate_or_far_target_keypoints_are_refused(engine, pair):
    kp = pair.reference.instances[pair.reference_index].keypoints
    with pytest.raises(ValueError, match="keypoints of target 0 are degenerate"):
        engine.run(**reference(pair, keypoints=np.full((18, 2), 7.0, np.float32)))
    with pytest.raises(ValueError, match="keypoints of target 0: .* lies far outside the 112x112 frame"):
        engine.run(**reference(pair, keypoints=kp - 1000))


@pytest.mark.skipif(not REAL.is_dir(), reason="needs ../shared/real (the project's real photos)")
def test_every_real_coco_person_with_a_torso_passes_the_source_checks():
    data = json.loads((REAL / "test_coco.json").read_text())
    images = {image["id"]: image for image in data["images"]}
    checked = 0
    for ann in data["annotations"]:
        h, w = images[ann["image_id"]]["height"], images[ann["image_id"]]["width"]
        kp = coco17_to_coco18(np.asarray(ann["keypoints"], np.float32).reshape(17, 3))
        if np.isnan(kp[[INDEX["neck"], INDEX["right_hip"]]]).any() and np.isnan(kp[INDEX["left_hip"]]).any():
            continue
        mask = decode_polygons(ann["segmentation"], h, w)
        SourcePerson(np.zeros((h, w, 3), np.uint8), mask, kp)
        checked += 1
    assert checked >= 10


# Item 8: an exact (0, 0) in the 18-pair form is a missing point, as OpenPose writes it.

def test_zero_zero_in_the_pair_form_is_missing():
    pairs = [[float(10 + k), float(20 + k)] for k in range(18)]
    pairs[INDEX["nose"]] = [0, 0]
    pairs[INDEX["left_ear"]] = [0, 0.5]  # on the border, not missing
    kp = parse_keypoints(pairs, where="test")
    assert np.isnan(kp[INDEX["nose"]]).all()
    np.testing.assert_array_equal(kp[INDEX["left_ear"]], [0, 0.5])
    assert not np.isnan(np.delete(kp, INDEX["nose"], axis=0)).any()


def test_zero_zero_is_missing_in_the_api_too_and_the_input_is_not_changed(engine, pair):
    kp = pair.reference.instances[pair.reference_index].keypoints.copy()
    kp[INDEX["neck"]] = 0
    before = kp.copy()
    assert np.isnan(validate_keypoints(kp)[INDEX["neck"]]).all()
    np.testing.assert_array_equal(kp, before)
    with pytest.raises(ValueError, match="keypoints of target 0 lack neck"):
        engine.run(**reference(pair, keypoints=kp))


# Item 12: clear errors at the point of entry.

def test_mixed_and_ragged_mask_lists_are_named(engine, pair):
    masks = pair.reference.modal
    rle = mask_utils.encode(np.asfortranarray(masks[0].astype(np.uint8)))
    mixed = "masks mixes COCO RLE dicts and arrays: mask 0 is a COCO RLE dict, mask 1 an array"
    with pytest.raises(TypeError, match=mixed):
        engine.run(**reference(pair, masks=[rle, *masks[1:]]))
    with pytest.raises(ValueError, match=r"mask 1 has shape \(50, 112\) but the image is 112x112"):
        engine.run(**reference(pair, masks=[masks[0], masks[1][:50], *masks[2:]]))
    with pytest.raises(ValueError, match="mask 1: RLE size"):
        engine.run(**reference(pair, masks=[rle, {"size": [5, 5], "counts": "25"}]))


def test_rle_from_pycocotools_encode_is_read_as_it_is(engine, pair):
    """``mask_utils.encode`` gives ``bytes`` counts; they were refused."""
    masks = pair.reference.modal
    encoded = [mask_utils.encode(np.asfortranarray(m.astype(np.uint8))) for m in masks]
    checked = Frame(**reference(pair, masks=encoded)).checked()
    np.testing.assert_array_equal(checked.masks, masks)
    np.testing.assert_array_equal(decode_rle(encoded[0], SIZE, SIZE), masks[0])


@pytest.mark.parametrize("target, error, message", [
    (None, TypeError, "target must be an instance index or a list of them"),
    ({0: 1}, TypeError, "target must be an instance index"),
    (0.0, TypeError, "target indices must be integers, got 0.0"),
    ([True], TypeError, "target indices must be integers, got True"),
])
def test_bad_targets_are_named(pair, target, error, message):
    with pytest.raises(error, match=message):
        Frame(**reference(pair, target=target, keypoints=[])).checked()


@pytest.mark.parametrize("ids, message", [([0.5, 1, 2], "instance_ids must be integers"), (7, "a sequence")])
def test_bad_instance_ids_are_named(pair, ids, message):
    n = pair.reference.n
    ids = ids if np.isscalar(ids) else [*ids, *range(3, n)][:n]
    with pytest.raises(TypeError, match=message):
        Frame(**reference(pair, instance_ids=ids)).checked()


def test_set_source_takes_an_integer_index(engine, pair):
    """``index=0.7`` was truncated to 0."""
    src, k = pair.source, pair.source_index
    for index in (k + 0.7, float(k), True):
        with pytest.raises(TypeError, match="index must be an integer index"):
            engine.set_source(src.image, keypoints=src.instances[k].keypoints, masks=src.modal, index=index)
    with pytest.raises(ValueError, match="index 99 is out of range"):
        engine.set_source(src.image, keypoints=src.instances[k].keypoints, masks=src.modal, index=99)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"order": "x"}, TypeError, "order must be callable, got str"),
    ({"completion": object()}, TypeError, "completion must have the method.s. complete, fill_background"),
    ({"min_evidence": float("nan")}, ValueError, "min_evidence must be a share of the image area in .0, 1., got nan"),
    ({"min_evidence": float("inf")}, ValueError, "min_evidence must be a share"),
    ({"min_evidence": 1.5}, ValueError, "min_evidence must be a share"),
    ({"min_evidence": "0.1"}, TypeError, "min_evidence must be a number"),
])
def test_engine_arguments_are_checked_when_it_is_made(kwargs, error, message):
    """``Engine(order='x')`` failed only at ``run()``; ``min_evidence=nan`` was accepted."""
    with pytest.raises(error, match=message):
        Engine(**kwargs)
