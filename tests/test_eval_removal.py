"""``interorder eval removal`` and ``eval video-removal`` on a few cases (skipped without the real
photos or scikit-image), and the scores they are built from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from interorder_rt.eval.removal import Case, RemovalScore
from interorder_rt.eval.video_removal import walking_sequence

COCO = Path(__file__).resolve().parents[1] / ".." / "shared" / "real" / "coco" / "test_coco.json"
needs_data = pytest.mark.skipif(not COCO.exists(), reason="../shared/real is absent")


def test_texture_ratio_is_one_for_the_truth_and_near_zero_for_a_smear():
    rng = np.random.default_rng(0)
    truth = (rng.random((40, 40, 3)) * 255).astype(np.uint8)
    hole = np.zeros((40, 40), bool)
    hole[10:30, 10:30] = True
    case = Case(truth, hole, truth, hole, (10, 10, 30, 30), "test")
    exact, smear = RemovalScore(), RemovalScore()
    exact.add(truth, case)
    flat = truth.copy()
    flat[hole] = truth[hole].mean(axis=0).astype(np.uint8)
    smear.add(flat, case)
    assert exact.summary()["texture_ratio"] == pytest.approx(1.0) and exact.summary()["psnr"] == 99.0
    assert smear.summary()["texture_ratio"] < 0.3 and smear.summary()["ssim"] < 1.0


def test_a_panning_sequence_shifts_its_true_background():
    person = np.full((50, 20, 3), 200, np.uint8)
    mask = np.ones((50, 20), bool)
    backdrop = (np.random.default_rng(1).random((90, 300, 3)) * 255).astype(np.uint8)
    frames = walking_sequence(person, mask, backdrop, 3, pan=4, size=(90, 160))
    (_, _, t0), (_, _, t1) = frames[0], frames[1]
    np.testing.assert_array_equal(t0[:, 4:], t1[:, :-4])
    assert all(f[1].any() for f in frames)


def test_a_swaying_person_steps_back_and_forth_around_the_middle():
    person = np.full((50, 20, 3), 200, np.uint8)
    mask = np.ones((50, 20), bool)
    backdrop = (np.random.default_rng(2).random((90, 160, 3)) * 255).astype(np.uint8)
    frames = walking_sequence(person, mask, backdrop, 9, pan=0, size=(90, 160), sway=3)
    lefts = [int(np.flatnonzero(m.any(axis=0))[0]) for _, m, _ in frames]
    assert [x - lefts[0] for x in lefts] == [0, 3, 6, 3, 0, -3, -6, -3, 0]
    assert all(np.array_equal(t, frames[0][2]) for _, _, t in frames)  # a static camera


@needs_data
def test_eval_removal_command_prints_every_row(tmp_path, capsys):
    pytest.importorskip("skimage")
    from interorder_rt.cli.main import main

    out = tmp_path / "removal.json"
    sheet = tmp_path / "sheet.png"
    assert main(["eval", "removal", "--coco", str(COCO), "--cases", "2", "--sheet", str(sheet), "--sheet-rows", "2",
                 "--json", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    for row in ("telea", "navier-stokes", "previous default", "new default"):
        assert row in printed
    scores = json.loads(out.read_text())["methods"]
    assert scores["new default"]["cases"] == 2 and sheet.stat().st_size > 0


@needs_data
def test_eval_video_removal_command_scores_every_camera_and_memory(tmp_path, capsys):
    pytest.importorskip("skimage")
    from interorder_rt.cli.main import main

    out = tmp_path / "video.json"
    assert main(["eval", "video-removal", "--coco", str(COCO), "--frames", "3", "--height", "90",
                 "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert set(rows) == {f"{c}/{m}" for c in ("static", "panning", "swaying") for m in ("off", "static", "homography")}
    assert rows["static/static"]["remembered_psnr"] == 99.0  # what an earlier frame showed comes back exact
    assert rows["panning/off"]["flicker"] is None and rows["swaying/static"]["flicker"] >= 0  # static cameras only
    assert "swaying" in capsys.readouterr().out
