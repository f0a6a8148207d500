"""Order evaluation: metrics on hand-made matrices, baselines on hand-built masks, the runner and the CLI."""

from __future__ import annotations

import json
import math
import sys
import types

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from interorder_rt.cli import eval as eval_cli
from interorder_rt.cli.main import build_parser, main
from interorder_rt.eval.baselines import order_by_area, order_by_convex, order_by_yaxis
from interorder_rt.eval.methods import MethodSpec
from interorder_rt.eval.metrics import AmodalCounts, OrderCounts, amodal_counts, order_counts
from interorder_rt.eval.order_eval import evaluate_order
from interorder_rt.eval.order_report import format_order_table, score_to_json
from interorder_rt.eval.samples import EvalSample, synthetic_samples
from interorder_rt.ops import MaskSet


# ---------------------------------------------------------------- metrics

GT = np.array([[0, 1, 1, -1], [-1, 0, 1, 0], [-1, -1, 0, 0], [1, 0, 0, 0]], dtype=np.int8)
PRED = np.array([[0, 1, -1, 1], [-1, 0, 0, 0], [1, 0, 0, 1], [-1, 0, -1, 0]], dtype=np.int8)
BORDERING = np.zeros((4, 4), dtype=bool)
for i, j in [(0, 1), (1, 2), (0, 3), (2, 3)]:
    BORDERING[i, j] = BORDERING[j, i] = True


def test_order_counts_on_a_hand_made_example():
    # Scored pairs (bordering, gt != 0): (0,1) right, (1,2) left at 0, (0,3) wrong sign; (2,3) has gt 0
    # and (0,2) does not border. Positives: gt (0,1) (0,2) (1,2) (3,0); pred (0,1) (0,3) (2,3) (2,0).
    counts = order_counts(PRED, GT, BORDERING)
    assert counts == OrderCounts(evaluated=3, correct=1, true_positives=1, predicted_positives=4, actual_positives=4)
    assert counts.accuracy == pytest.approx(1 / 3)
    assert counts.precision == pytest.approx(1 / 4)
    assert counts.recall == pytest.approx(1 / 4)
    assert counts.f1 == pytest.approx(1 / 4)


def test_counts_pool_over_images():
    pooled = order_counts(PRED, GT, BORDERING) + order_counts(GT, GT, BORDERING)
    assert pooled == OrderCounts(evaluated=6, correct=4, true_positives=5, predicted_positives=8, actual_positives=8)
    assert pooled.accuracy == pytest.approx(4 / 6)
    assert pooled.f1 == pytest.approx(10 / 16)


def test_empty_counts_are_nan():
    empty = order_counts(np.zeros((0, 0)), np.zeros((0, 0)), np.zeros((0, 0), dtype=bool))
    assert empty == OrderCounts()
    assert all(math.isnan(v) for v in (empty.accuracy, empty.precision, empty.recall, empty.f1))
    assert math.isnan(AmodalCounts().miou)


def test_order_counts_check_shapes():
    with pytest.raises(ValueError, match=r"predicted order must be a square \(4, 4\) matrix"):
        order_counts(PRED[:3, :3], GT, BORDERING)
    with pytest.raises(ValueError, match="bordering matrix"):
        order_counts(PRED, GT, BORDERING[:, :3])


def test_amodal_counts():
    pred = np.zeros((2, 4, 4), dtype=bool)
    gt = np.zeros((2, 4, 4), dtype=bool)
    pred[0, :2, :2] = True  # 4 pixels
    gt[0, :2, :3] = True  # 6 pixels, 4 shared
    gt[1, 3, 3] = True  # missed entirely
    counts = amodal_counts(pred, gt)
    assert counts == AmodalCounts(intersection=4, union=7, instances=2)
    assert counts.miou == pytest.approx(4 / 7)
    with pytest.raises(ValueError, match="one shape"):
        amodal_counts(pred[:1], gt)


# ---------------------------------------------------------------- baselines

def canvas(n: int, size: int = 32) -> np.ndarray:
    return np.zeros((n, size, size), dtype=bool)


def test_area_puts_the_smaller_of_two_touching_squares_in_front():
    masks = canvas(4)
    masks[0, 10:14, 10:14] = True  # small, touches the big one on its left
    masks[1, 5:20, 14:29] = True  # big
    masks[2, 25:27, 0:2] = True  # far from everything
    masks[3, 20:24, 14:18] = True  # same area as 0, touches 1 below; not 0
    result = order_by_area(MaskSet(masks))
    expected = np.zeros((4, 4), dtype=np.int8)
    expected[0, 1], expected[1, 0] = 1, -1
    expected[3, 1], expected[1, 3] = 1, -1
    np.testing.assert_array_equal(result.order, expected)
    assert result.growth[1, 0] == 225 - 16 and result.growth[0, 1] == 0
    assert result.layering[0] == 1 and result.amodal is None


def test_area_leaves_equal_areas_unordered():
    masks = canvas(2)
    masks[0, 0:4, 0:4] = True
    masks[1, 0:4, 4:8] = True
    np.testing.assert_array_equal(order_by_area(MaskSet(masks)).order, np.zeros((2, 2)))


def test_yaxis_puts_the_lower_mask_in_front():
    masks = canvas(2)
    masks[0, 20:30, 5:15] = True  # lower in the image (larger y)
    masks[1, 2:20, 5:15] = True  # above it, touching
    result = order_by_yaxis(MaskSet(masks))
    np.testing.assert_array_equal(result.order, [[0, 1], [-1, 0]])
    assert result.growth[1, 0] == pytest.approx(24.5 - 10.5)
    np.testing.assert_array_equal(result.layering, [1, 0])


def ring_and_disk(size: int = 32) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    d2 = (yy - 16) ** 2 + (xx - 16) ** 2
    return np.stack([(d2 > 25) & (d2 <= 100), d2 <= 25])  # ring, disk filling its hole


def test_convex_puts_a_disk_in_front_of_the_ring_around_it():
    masks = ring_and_disk()
    result = order_by_convex(MaskSet(masks))
    np.testing.assert_array_equal(result.order, [[0, -1], [1, 0]])
    disk_area = int(masks[1].sum())
    assert result.growth[0, 1] == disk_area and result.growth[1, 0] == 0
    np.testing.assert_array_equal(result.amodal[0], masks[0] | masks[1])  # the ring's hull fills the hole
    np.testing.assert_array_equal(result.amodal[1], masks[1])
    np.testing.assert_array_equal(result.layering, [0, 1])


@pytest.mark.parametrize("method", [order_by_area, order_by_yaxis, order_by_convex])
@pytest.mark.parametrize("n", [0, 1])
def test_baselines_handle_zero_and_one_instance(method, n):
    masks = canvas(n)
    masks[:, 3:6, 3:6] = True
    result = method(MaskSet(masks), None)
    assert result.order.shape == (n, n) and result.layering.tolist() == list(range(n))
    if method is order_by_convex:
        assert result.amodal.shape == (n, 32, 32)


# ---------------------------------------------------------------- methods and runner

def test_method_spec_validates_and_labels():
    assert MethodSpec("convex").display == "convex"
    assert MethodSpec("ornet", weights="runs/wocon/ornet.pt").display == "ornet (ornet.pt)"
    assert MethodSpec("ornet", label="ours w/o con").display == "ours w/o con"
    assert MethodSpec("area").build() is order_by_area
    with pytest.raises(ValueError, match="unknown order method 'depth'"):
        MethodSpec("depth")
    with pytest.raises(ValueError, match="weights apply to ornet only"):
        MethodSpec("area", weights="x.pt")


def hand_samples() -> list[EvalSample]:
    """The ring and disk (disk in front) and a pair of squares where the larger one is in front."""
    ring = ring_and_disk()
    squares = canvas(2)
    squares[0, 4:8, 4:8] = True  # small, behind
    squares[1, 4:16, 8:20] = True  # large, in front
    return [
        EvalSample("ring", ring, np.array([[0, -1], [1, 0]], np.int8), ring[0:1].repeat(2, 0) | ring[1], None),
        EvalSample("squares", squares, np.array([[0, -1], [1, 0]], np.int8), None, None),
    ]


def test_evaluate_order_pools_counts_time_and_amodal():
    scores = evaluate_order(hand_samples(), {"area": order_by_area, "convex": order_by_convex}, progress=False)
    area, convex = scores
    assert area.label == "area" and area.images == 2 and area.amodal is None
    expected = OrderCounts(evaluated=2, correct=1, true_positives=1, predicted_positives=2, actual_positives=2)
    assert area.order == expected
    assert convex.order.correct == 1  # ring/disk right; squares: the hulls are the squares, no relation
    ring = ring_and_disk()
    filled = int((ring[0] | ring[1]).sum())
    # amodal GT of the ring image: both instances filled; predicted: filled ring, bare disk.
    assert convex.amodal == AmodalCounts(intersection=filled + int(ring[1].sum()), union=2 * filled, instances=2)
    assert convex.seconds > 0 and convex.ms_per_image > 0


def test_evaluate_order_checks_what_a_method_returns():
    with pytest.raises(TypeError, match="method 'bad' returned ndarray"):
        evaluate_order(hand_samples(), {"bad": lambda masks, image: np.zeros((2, 2))}, progress=False)
    empty = order_by_area(MaskSet(canvas(0)))
    with pytest.raises(ValueError, match=r"method 'short' returned an order of shape \(0, 0\) for 2 instances"):
        evaluate_order(hand_samples(), {"short": lambda masks, image: empty}, progress=False)


def test_table_and_json():
    scores = evaluate_order(hand_samples(), {"area": order_by_area, "convex": order_by_convex}, progress=False)
    lines = format_order_table(scores).splitlines()
    assert lines[0].split()[:5] == ["method", "acc", "%", "P", "%"]
    assert lines[2].split()[:2] == ["area", "50.00"] and lines[2].split()[6] == "-"
    assert lines[3].split()[0] == "convex" and lines[3].split()[6] != "-"
    data = score_to_json(scores[0])
    assert data["accuracy"] == 0.5 and data["amodal_miou"] is None and data["pairs"]["evaluated"] == 2
    json.dumps(data, allow_nan=False)


# ---------------------------------------------------------------- synthetic end to end and CLI

def expected_pairs(count: int, seed: int) -> int:
    pairs = 0
    for sample in synthetic_samples(count, seed):
        bordering = MaskSet(sample.modal).bordering_matrix()
        pairs += int(np.triu(bordering & (sample.order_gt != 0), k=1).sum())
    return pairs


def test_cli_on_synthetic_scenes_prints_one_row_per_method(tmp_path, capsys):
    out = tmp_path / "order.json"
    argv = ["eval", "order", "--synthetic", "3", "--seed", "5", "--method", "area", "--method", "yaxis",
            "--method", "convex", "--label", "hull", "--json", str(out), "--no-progress"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "order recovery on 3 synthetic scenes (seeds 5..7)"
    assert [line.split()[0] for line in lines[3:]] == ["area", "yaxis", "hull"]
    data = json.loads(out.read_text())
    assert data["source"] == {"synthetic": 3, "seed": 5}
    assert [m["method"] for m in data["methods"]] == ["area", "yaxis", "convex"]
    pairs = expected_pairs(3, 5)
    assert pairs > 0 and all(m["pairs"]["evaluated"] == pairs for m in data["methods"])
    assert data["methods"][2]["amodal_miou"] > 0 and data["methods"][0]["amodal_miou"] is None


def test_cli_evaluates_a_cocoa_file_with_images(tmp_path, capsys):
    import cv2

    height, width = 20, 30
    front, back = np.zeros((height, width), bool), np.zeros((height, width), bool)
    front[2:8, 2:10] = True
    back[5:15, 5:25] = True
    rle = mask_utils.encode(np.asfortranarray((back & ~front).astype(np.uint8)))
    regions = [
        {"segmentation": [2, 2, 10, 2, 10, 8, 2, 8], "name": "cup", "isStuff": False},
        {"segmentation": [5, 5, 25, 5, 25, 15, 5, 15], "name": "table", "isStuff": "false",
         "visible_mask": {"size": [height, width], "counts": rle["counts"].decode()}},
    ]
    annotations = {"images": [{"id": 1, "file_name": "a.png", "height": height, "width": width}],
                   "annotations": [{"image_id": 1, "regions": regions, "depth_constraint": "1-2"}]}
    (tmp_path / "cocoa.json").write_text(json.dumps(annotations))
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((height, width, 3), np.uint8))
    argv = ["eval", "order", "--cocoa", str(tmp_path / "cocoa.json"), "--images", str(tmp_path),
            "--gt", "depth", "--method", "area", "--method", "convex", "--no-progress"]
    assert main(argv) == 0
    rows = capsys.readouterr().out.splitlines()[3:]
    assert [row.split()[:2] for row in rows] == [["area", "100.00"], ["convex", "100.00"]]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--synthetic", "2"], "give at least one --method"),
        (["--synthetic", "2", "--method", "area", "--weights", "w.pt"], "weights apply to ornet only"),
        (["--synthetic", "2", "--method", "area", "--method", "area"], "several methods are labelled area"),
        (["--synthetic", "2", "--images", "x", "--method", "area"], "--images goes with --cocoa"),
        (["--cocoa", "/nonexistent/cocoa.json", "--method", "area"], "No such file"),
    ],
)
def test_cli_reports_bad_requests(argv, message, capsys):
    assert main(["eval", "order", "--no-progress", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--synthetic", "2", "--weights", "w.pt", "--method", "ornet"], "--weights must follow the --method"),
        (["--synthetic", "2", "--method", "area", "--label", "a", "--label", "b"], "--label given twice"),
        (["--synthetic", "0", "--method", "area"], "expected a positive integer"),
        (["--method", "area"], "one of the arguments --synthetic --cocoa is required"),
    ],
)
def test_cli_parser_rejects_bad_options(argv, message, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["eval", "order", *argv])
    assert message in capsys.readouterr().err


def test_eval_attaches_sub_commands_of_installed_modules(monkeypatch):
    extension = types.ModuleType("extension_for_test")
    extension.register_cli = lambda eval_subparsers: eval_subparsers.add_parser("extra").set_defaults(run=len)
    monkeypatch.setitem(sys.modules, "extension_for_test", extension)
    monkeypatch.setattr(eval_cli, "EXTENSION_MODULES", ("interorder_rt.eval.not_a_module", "extension_for_test"))
    args = build_parser().parse_args(["eval", "extra"])
    assert args.eval_command == "extra" and args.run is len


def test_cli_evaluates_ornet_from_a_given_checkpoint(tmp_path, capsys):
    import torch

    from interorder_rt.io.atomic import atomic_torch_save
    from interorder_rt.models.ornet import ORNet, ORNetConfig, export_checkpoint

    torch.manual_seed(0)
    weights = tmp_path / "ablation.pt"
    atomic_torch_save(export_checkpoint(ORNet(ORNetConfig(widths=(4, 8)))), weights)
    argv = ["eval", "order", "--synthetic", "1", "--method", "ornet", "--weights", str(weights), "--label",
            "untrained", "--method", "area", "--no-progress"]
    assert main(argv) == 0
    rows = [row.split() for row in capsys.readouterr().out.splitlines()[3:]]
    assert [row[0] for row in rows] == ["untrained", "area"]
    assert rows[0][6] != "-" and rows[1][6] == "-"  # ORNet predicts amodal masks, area does not
    assert rows[0][5] == rows[1][5]  # same pairs evaluated
