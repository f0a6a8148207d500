"""``interorder eval pose``: its measures, and a run on a small COCO file of synthetic people."""

from __future__ import annotations

import json

import cv2
import numpy as np

from interorder_rt.cli.main import main
from interorder_rt.eval.pose_people import load_people
from interorder_rt.eval.pose_real import face_on_head, moved_head, significant_pieces, torn_share
from interorder_rt.pose import MeshWarp, SourcePerson
from interorder_rt.pose.regions import FACE
from interorder_rt.pose.skeleton import body_scale
from interorder_rt.keypoints import INDEX
from interorder_rt.synth import render_person, sample_identity, sample_pose

# COCO-17 index of each COCO-18 keypoint but the neck.
_COCO17 = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
           "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
           "right_ankle"]


def test_pieces_and_torn_share():
    mask = np.zeros((40, 40), bool)
    mask[5:30, 5:30] = True
    assert significant_pieces(mask) == 1 and torn_share(mask) == 0
    mask[12:16, 12:16] = False  # a hole
    mask[35, 35] = True  # a speck below 0.5 %
    assert significant_pieces(mask) == 1
    assert torn_share(mask) == (16 + 1) / mask.sum()
    mask[32:40, 32:40] = True  # a second piece
    assert significant_pieces(mask) == 2
    assert significant_pieces(np.zeros((4, 4), bool)) == 0 and torn_share(np.zeros((4, 4), bool)) == 0


def test_the_face_on_the_head_is_where_the_target_face_is_covered():
    rng = np.random.default_rng(3)
    keypoints = sample_pose(rng, 200, 200)
    rgb, mask = render_person(sample_identity(rng, 0), keypoints, 200, 200)
    source = SourcePerson(rgb, mask, keypoints)
    def covered(target: np.ndarray) -> float | None:
        return face_on_head(moved_head(MeshWarp(), source, target), target)

    assert covered(keypoints) == 1.0  # its own pose: the head on its face
    face = list(FACE)
    away = keypoints.copy()
    away[face] += (1.0 * body_scale(keypoints), 0.0)  # the face a body scale aside, the neck kept
    assert covered(away) == 0.0  # the head turns by the face's roll only
    faceless = keypoints.copy()
    faceless[face] = np.nan
    assert covered(faceless) is None


def _coco_file(tmp_path, people: int = 3) -> str:
    rng = np.random.default_rng(0)
    images, annotations = [], []
    for k in range(people):
        keypoints = sample_pose(rng, 160, 160)
        rgb, mask = render_person(sample_identity(rng, k), keypoints, 160, 160)
        cv2.imwrite(str(tmp_path / f"{k}.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        contours, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        flat = []
        for name in _COCO17:
            x, y = keypoints[INDEX[name]]
            flat += [0, 0, 0] if np.isnan(x) else [float(x), float(y), 2]
        images.append({"id": k, "file_name": f"{k}.png", "height": 160, "width": 160})
        annotations.append({"id": 100 + k, "image_id": k, "category_id": 1, "iscrowd": 0, "num_keypoints": 17,
                            "keypoints": flat, "area": float(mask.sum()),
                            "segmentation": [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]})
    path = tmp_path / "people.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [{"id": 1}]}))
    return str(path)


def test_eval_pose_runs_on_a_coco_file(tmp_path, capsys):
    coco = _coco_file(tmp_path)
    assert len(load_people(coco)) == 3
    out_json, sheets = tmp_path / "scores.json", tmp_path / "sheets"
    assert main(["eval", "pose", "--coco", coco, "--sheets", str(sheets), "--json", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert "old (PartWarp)" in printed and "new (MeshWarp)" in printed
    scores = json.loads(out_json.read_text())
    assert len(scores) == 3 * 2 * 2 and all(s["pieces"] >= 1 for s in scores)
    assert all(s["head_pieces"] == 1 for s in scores if s["method"].startswith("new"))
    assert all(0 <= s["face_on_head"] <= 1 for s in scores if s["method"].startswith("new"))
    assert "face on head" in printed
    assert len(list(sheets.glob("*.png"))) == 3


def test_eval_pose_needs_two_people(tmp_path, capsys):
    coco = _coco_file(tmp_path, people=1)
    assert main(["eval", "pose", "--coco", coco]) == 2
    assert "needs two" in capsys.readouterr().err
