"""COCOA loader: fixtures in the real file format, and every malformed input it promises to reject."""

from __future__ import annotations

import copy
import json

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from interorder_rt.io.cocoa import CocoaFormatError, load_cocoa, read_cocoa_image
from interorder_rt.io.image import read_rgb

H, W = 40, 60


def rect(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    mask = np.zeros((H, W), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def polygon(x0: int, y0: int, x1: int, y1: int) -> list[float]:
    """A rectangle polygon; pycocotools fills pixels x0..x1-1, y0..y1-1."""
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def string_rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [H, W], "counts": rle["counts"].decode("ascii")}


def list_rle(mask: np.ndarray) -> dict:
    """Uncompressed RLE: column-major run lengths starting with a run of zeros."""
    flat = mask.T.reshape(-1).astype(np.int8)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    runs = np.diff(bounds).tolist()
    return {"size": [H, W], "counts": ([0] if flat[0] else []) + runs}


PERSON, TABLE, WALL = rect(10, 5, 30, 25), rect(20, 15, 50, 35), rect(0, 30, 60, 40)
CUP = rect(5, 5, 15, 15)


def cocoa_file() -> dict:
    """Two images: image 9 has a person over a table over a wall (stuff); image 77 a cup and an empty region."""
    table_visible = TABLE & ~PERSON
    wall_visible = WALL & ~TABLE
    regions_9 = [
        {"segmentation": [str(c) for c in polygon(10, 5, 30, 25)], "name": "person", "area": "400.0",
         "isStuff": "false", "order": "1", "occlude_rate": "0.0"},
        {"segmentation": polygon(20, 15, 50, 35), "name": "table", "area": 600, "isStuff": False, "order": 2,
         "occlude_rate": "0.1667", "visible_mask": string_rle(table_visible),
         "invisible_mask": string_rle(TABLE & PERSON)},
        {"segmentation": [polygon(0, 30, 60, 40)], "name": "wall", "area": 600.0, "isStuff": "1", "order": "3",
         "occlude_rate": 0.25, "visible_mask": list_rle(wall_visible), "invisible_mask": list_rle(WALL & TABLE)},
    ]
    regions_77 = [
        {"segmentation": polygon(5, 5, 15, 15), "name": "cup", "area": 100, "isStuff": 0, "order": 1,
         "occlude_rate": 0},
        {"segmentation": [], "name": "ghost", "area": 0, "isStuff": False, "order": 2, "occlude_rate": 0},
    ]
    return {
        "images": [
            {"id": 9, "file_name": "COCO_9.jpg", "height": H, "width": W},
            {"id": "77", "file_name": "COCO_77.jpg", "height": str(H), "width": str(W)},
        ],
        "annotations": [
            {"image_id": "9", "id": 9, "size": "3", "regions": regions_9, "depth_constraint": "1-2,2-3"},
            {"image_id": 77, "id": 77, "size": 2, "regions": regions_77, "depth_constraint": ""},
        ],
    }


def write(tmp_path, data, name="cocoa.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.fixture
def dataset(tmp_path):
    with pytest.warns(UserWarning, match="skipped 1 empty region"):
        return load_cocoa(write(tmp_path, cocoa_file()))


def test_loads_masks_names_and_stuff(dataset):
    assert len(dataset) == 2 and dataset.skipped_empty == 1
    assert [image.image_id for image in dataset] == [9, 77]
    image = dataset[0]
    assert (image.image_id, image.file_name, image.height, image.width) == (9, "COCO_9.jpg", H, W)
    assert image.names == ["person", "table", "wall"]
    np.testing.assert_array_equal(image.is_stuff, [False, False, True])
    np.testing.assert_array_equal(image.amodal, np.stack([PERSON, TABLE, WALL]))
    np.testing.assert_array_equal(image.modal, np.stack([PERSON, TABLE & ~PERSON, WALL & ~TABLE]))
    np.testing.assert_array_equal(image.region_index, [1, 2, 3])


def test_both_ground_truth_orders(dataset):
    expected = np.array([[0, 1, 0], [-1, 0, 1], [0, -1, 0]], dtype=np.int8)  # person > table > wall
    image = dataset[0]
    np.testing.assert_array_equal(image.order_depth_constraint, expected)
    np.testing.assert_array_equal(image.order_gt, expected)
    assert image.order_gt.dtype == np.int8 and image.order_depth_constraint.dtype == np.int8


def test_empty_region_is_skipped_and_unoccluded_modal_is_the_polygon(dataset):
    image = dataset[1]
    assert image.image_id == 77 and image.names == ["cup"]
    np.testing.assert_array_equal(image.modal[0], CUP)
    np.testing.assert_array_equal(image.amodal[0], CUP)
    np.testing.assert_array_equal(image.order_gt, np.zeros((1, 1)))


def test_skip_stuff_drops_regions_and_their_constraints(tmp_path):
    with pytest.warns(UserWarning):
        image = load_cocoa(write(tmp_path, cocoa_file()), include_stuff=False)[0]
    assert image.names == ["person", "table"]
    np.testing.assert_array_equal(image.region_index, [1, 2])
    np.testing.assert_array_equal(image.order_depth_constraint, [[0, 1], [-1, 0]])
    np.testing.assert_array_equal(image.order_gt, [[0, 1], [-1, 0]])


def test_single_annotation_object_takes_its_size_from_the_rle(tmp_path):
    annotation = cocoa_file()["annotations"][0]
    image = load_cocoa(write(tmp_path, annotation))[0]
    assert (image.image_id, image.file_name, image.height, image.width) == (9, None, H, W)
    np.testing.assert_array_equal(image.modal[1], TABLE & ~PERSON)


def test_modal_from_invisible_mask_alone_and_mutual_constraint():
    data = image_9_file()
    table = data["annotations"][0]["regions"][1]
    del table["visible_mask"]
    data["annotations"][0]["depth_constraint"] = " 1-2 , 2-1,2-3"
    image = load_cocoa(data)[0]
    np.testing.assert_array_equal(image.modal[1], TABLE & ~PERSON)
    np.testing.assert_array_equal(image.order_depth_constraint, [[0, 0, 0], [0, 0, 1], [0, -1, 0]])


def test_fully_covered_region_has_empty_modal_and_no_order():
    data = image_9_file()
    data["annotations"][0]["regions"][2]["visible_mask"] = list_rle(np.zeros((H, W), dtype=bool))
    image = load_cocoa(data)[0]
    assert not image.modal[2].any() and image.amodal[2].sum() == 600
    np.testing.assert_array_equal(image.order_gt[2], [0, 0, 0])


def image_9_file() -> dict:
    data = cocoa_file()
    data["annotations"] = data["annotations"][:1]
    return data


def annotation_edit(path: list, value):
    """A COCOA file of image 9 with ``value`` set at ``path`` inside its annotation (None deletes)."""
    data = image_9_file()
    node = data["annotations"][0]
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


def region_edit(region: int, key: str, value) -> dict:
    return annotation_edit(["regions", region, key], value)


def depth(text) -> dict:
    return annotation_edit(["depth_constraint"], text)


MALFORMED_AT_LOAD = {
    "not json": ("{not json", "not a JSON file"),
    "top level list": ("[]", "top level must be a JSON object"),
    "neither": ({"images": []}, "expected 'annotations'"),
    "annotations not list": ({"annotations": {}}, "'annotations' must be a list"),
    "image size": ({"images": [{"id": 1, "height": 0, "width": 5}], "annotations": []},
                   r"images\[0\]: image height must lie in \[1, 32768\], got 0"),
    "huge image": ({"images": [{"id": 1, "height": 100000, "width": 100000}], "annotations": []},
                   r"images\[0\]: image height must lie in \[1, 32768\], got 100000"),
    "image without height": (
        {"images": [{"id": 1, "width": 5}], "annotations": []}, r"images\[0\]: missing field 'height'"
    ),
    "image id": (annotation_edit(["image_id"], "nine"), r"annotations\[0\]: field 'image_id' must be an integer"),
    "no regions": (annotation_edit(["regions"], None), "image 9: missing field 'regions'"),
    "depth type": (depth(12), "'depth_constraint' must be a string"),
    "size type": (annotation_edit(["size"], "many"), "image 9: field 'size' must be an integer"),
    "depth half": (depth("1-"), "'depth_constraint' has '1-'"),
    "depth words": (depth("a-b"), "'depth_constraint' has 'a-b'"),
    "depth range": (depth("1-4"), "has '1-4': regions are numbered 1..3"),
    "depth self": (depth("2-2"), "has '2-2'"),
    "region not object": (annotation_edit(["regions", 1], "x"), "image 9, region 2: expected a JSON object"),
    "no segmentation": (region_edit(1, "segmentation", None), "region 2: missing field 'segmentation'"),
    "no name": (region_edit(0, "name", None), "region 1: missing field 'name'"),
    "stuff flag": (region_edit(0, "isStuff", "maybe"), "region 1: field 'isStuff' must be a boolean"),
    "segmentation type": (region_edit(0, "segmentation", "10,5"), "region 1: field 'segmentation' must be a list"),
    "odd coordinates": (region_edit(0, "segmentation", [1, 2, 3, 4, 5, 6, 7]), "region 1: .* x, y pairs"),
    "coordinate text": (region_edit(0, "segmentation", [1, 2, "x", 4, 5, 6]), "region 1: .* non-numeric"),
    "out of bounds": (
        region_edit(2, "segmentation", polygon(0, 30, 70, 40)), "region 3: field 'segmentation' leaves the 60x40 image"
    ),
}


def test_a_file_without_depth_constraints_loads_with_one_warning(tmp_path):
    """As the demo annotations published with the de-occlusion code: the order rule needs no depth."""
    data = cocoa_file()
    for annotation in data["annotations"]:
        del annotation["depth_constraint"]
    with pytest.warns(UserWarning) as caught:
        dataset = load_cocoa(write(tmp_path, data))
    depth_warnings = [str(w.message) for w in caught if "depth_constraint" in str(w.message)]
    assert depth_warnings == [f"{tmp_path / 'cocoa.json'}: 2 of 2 image(s) have no 'depth_constraint' (first: image 9); "
                              "their depth ground truth is unavailable, the order from modal and amodal masks is "
                              "not affected"]
    assert dataset.without_depth == [9, 77] and dataset[0].order_depth_constraint is None
    np.testing.assert_array_equal(dataset[0].order_gt, [[0, 1, 0], [-1, 0, 1], [0, -1, 0]])


def test_a_size_other_than_the_number_of_regions_is_a_warning(tmp_path):
    data = cocoa_file()
    data["annotations"][0]["size"] = 15
    with pytest.warns(UserWarning, match=r"1 image\(s\) have a 'size' other than their number of regions "
                                         r"\(first: image 9, size 15, 3 regions\); the regions are used"):
        dataset = load_cocoa(write(tmp_path, data))
    assert dataset[0].names == ["person", "table", "wall"]


@pytest.mark.parametrize("data, message", MALFORMED_AT_LOAD.values(), ids=MALFORMED_AT_LOAD.keys())
def test_malformed_file_is_rejected_at_load(tmp_path, data, message):
    with pytest.raises(CocoaFormatError, match=message):
        load_cocoa(write(tmp_path, data))


def test_single_annotation_without_any_size_is_rejected():
    annotation = cocoa_file()["annotations"][1]
    with pytest.raises(CocoaFormatError, match="image 77: image size unknown"):
        load_cocoa(annotation)


def visible(region: int, counts, size=(H, W)) -> dict:
    return region_edit(region, "visible_mask", {"size": list(size), "counts": counts})


MALFORMED_RLE = {
    "alphabet": (visible(1, "!!!"), "region 2: field 'visible_mask': character '!'"),
    "truncated": (visible(1, "o"), "ends inside a run"),
    "short string": (visible(1, "12"), r"add up to 3, expected height \* width = 2400"),
    "long list": (visible(2, [2400, 5]), "region 3: field 'visible_mask': run lengths add up to 2405"),
    "negative run": (visible(2, [2401, -1]), "non-negative"),
    "list of text": (visible(2, ["2400"]), "must hold integers"),
    "counts type": (visible(2, 2400), "must be a string or a list"),
    "size": (visible(2, [2400], (W, H)), r"region 3: .* RLE size \[60, 40\] does not match the image size \[40, 60\]"),
    "no counts": (region_edit(1, "visible_mask", {"size": [H, W]}), "must be an object with 'counts' and 'size'"),
}


@pytest.mark.parametrize("data, message", MALFORMED_RLE.values(), ids=MALFORMED_RLE.keys())
def test_bad_rle_is_rejected_when_the_image_is_decoded(data, message):
    dataset = load_cocoa(data)
    with pytest.raises(CocoaFormatError, match=message):
        dataset[0]


def test_index_type_is_checked(dataset):
    with pytest.raises(TypeError, match="integer"):
        dataset["0"]


def write_png(path, rgb: np.ndarray) -> None:
    """PNG bytes (lossless) under any file name; decoders go by content, not extension."""
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    assert ok
    path.write_bytes(data.tobytes())


def test_read_cocoa_image_returns_rgb(tmp_path, dataset):
    rgb = np.zeros((H, W, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    rgb[:, :10, 2] = 90  # some blue on the left
    write_png(tmp_path / "COCO_9.jpg", rgb)
    np.testing.assert_array_equal(read_cocoa_image(dataset[0], tmp_path), rgb)


def test_read_cocoa_image_errors(tmp_path, dataset):
    with pytest.raises(FileNotFoundError, match="COCO_9.jpg"):
        read_cocoa_image(dataset[0], tmp_path)
    (tmp_path / "COCO_9.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(ValueError, match="cannot decode image file"):
        read_cocoa_image(dataset[0], tmp_path)
    write_png(tmp_path / "COCO_77.jpg", np.zeros((H + 1, W, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"file is 60x41, annotated as 60x40"):
        read_cocoa_image(dataset[1], tmp_path)
    single = load_cocoa(copy.deepcopy(cocoa_file()["annotations"][0]))[0]
    with pytest.raises(ValueError, match="names no image file"):
        read_cocoa_image(single, tmp_path)


def test_read_rgb_rejects_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match="cannot decode"):
        read_rgb(tmp_path / "empty.png")


def test_eval_order_runs_through_a_file_without_depth_and_with_a_wrong_size(tmp_path, capsys):
    from interorder_rt.cli.main import main

    data = cocoa_file()
    data["annotations"][0]["size"] = 15
    for annotation in data["annotations"]:
        del annotation["depth_constraint"]
    path = write(tmp_path, data)
    argv = ["eval", "order", "--cocoa", str(path), "--method", "area", "--method", "convex", "--no-progress"]
    with pytest.warns(UserWarning, match="no 'depth_constraint'"):
        assert main(argv) == 0
    out = capsys.readouterr().out
    assert "(2 images, ground truth: amodal)" in out
    assert [row.split()[0] for row in out.splitlines()[3:]] == ["area", "convex"]
    with pytest.warns(UserWarning, match="no 'depth_constraint'"):
        assert main([*argv, "--gt", "depth"]) == 2
    assert "the depth ground truth is unavailable, use the amodal one (--gt amodal)" in capsys.readouterr().err
