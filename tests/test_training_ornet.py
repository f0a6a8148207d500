"""ORNet training: MoCo pieces, occluder placement, the imitation sampler, and short real runs
(losses fall, 2-process torchrun, resume after a kill)."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from interorder_rt.models.ornet import ORNetConfig, load_ornet
from training.checkpoint import load_checkpoint
from training.contrastive import KeyQueue, info_nce, make_key_encoder, momentum_update
from training.occlusion import mask_box, place_occluder, shift_mask
from training.ornet import main as train_main
from training.ornet_data import OCCLUDED_WEIGHT, ImitationSampler, InstancePool, PoolImage, cocoa_pool, fit_to_canvas

REPO = Path(__file__).resolve().parents[1]
TINY = ["--size", "32", "--widths", "8", "16", "--embed-dim", "8", "--batch", "8", "--queue", "16", "--threads", "1"]


def _shapes(seed: int, n: int = 24, size: int = 96) -> np.ndarray:
    """Random filled ellipses and rectangles, (n, size, size) bool."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, size, size), np.uint8)
    for k in range(n):
        cx, cy = (int(v) for v in rng.integers(20, size - 20, 2))
        a, b = (int(v) for v in rng.integers(5, 18, 2))
        if k % 2:
            cv2.ellipse(out[k], (cx, cy), (a, b), float(rng.uniform(0, 180)), 0, 360, 1, -1)
        else:
            cv2.rectangle(out[k], (cx - a, cy - b), (cx + a, cy + b), 1, -1)
    return out.astype(bool)


@pytest.fixture(scope="module")
def masks_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("masks") / "shapes.npy"
    np.save(path, _shapes(0))
    return path


def _log(run: Path) -> list[dict]:
    with open(run / "log.csv", newline="") as f:
        return list(csv.DictReader(f))


# -- MoCo pieces ---------------------------------------------------------------------------------


def test_momentum_update_follows_the_formula_and_copies_buffers():
    query = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    key = make_key_encoder(query)
    assert all(not p.requires_grad for p in key.parameters())
    with torch.no_grad():
        for p in query.parameters():
            p.add_(1.0)
        query[1].running_mean.fill_(3.0)
    before = [p.clone() for p in key.parameters()]
    momentum_update(key, query, 0.9)
    for pk, pk0, pq in zip(key.parameters(), before, query.parameters()):
        torch.testing.assert_close(pk, 0.9 * pk0 + 0.1 * pq)
    torch.testing.assert_close(key[1].running_mean, torch.full((2,), 3.0))
    with pytest.raises(ValueError, match="momentum"):
        momentum_update(key, query, 1.0)


def test_key_queue_is_fifo_with_wraparound():
    queue = KeyQueue(dim=2, size=3)
    torch.testing.assert_close(queue.keys.norm(dim=1), torch.ones(3))
    keys = torch.arange(10, dtype=torch.float32).reshape(5, 2)
    queue.push(keys[:2])
    torch.testing.assert_close(queue.keys[:2], keys[:2])
    assert int(queue.pointer) == 2
    queue.push(keys[2:4])  # wraps: slot 2 then slot 0
    torch.testing.assert_close(queue.keys, torch.stack([keys[3], keys[1], keys[2]]))
    queue.push(torch.arange(8, dtype=torch.float32).reshape(4, 2))  # more than the queue: keeps the last 3
    assert sorted(queue.keys[:, 0].tolist()) == [2.0, 4.0, 6.0]
    assert set(queue.state_dict()) == {"keys", "pointer"}
    with pytest.raises(ValueError, match="keys must be"):
        queue.push(torch.zeros(2, 3))


def test_info_nce_matches_the_definition():
    torch.manual_seed(0)
    q, k, queue = (F.normalize(torch.randn(n, 4), dim=1) for n in (3, 3, 5))
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.T], dim=1) / 0.7
    expected = -torch.log_softmax(logits, dim=1)[:, 0].mean()
    torch.testing.assert_close(info_nce(q, k, queue, 0.7), expected)
    assert info_nce(q, q, queue, 0.7) < info_nce(q, -q, queue, 0.7)


# -- occluders and views -------------------------------------------------------------------------


def test_shift_mask_moves_and_clips():
    mask = np.zeros((4, 5), bool)
    mask[1, 1] = mask[3, 4] = True
    moved = shift_mask(mask, 1, -1)
    assert moved[2, 0] and moved.sum() == 1  # (3, 4) left the canvas
    assert not shift_mask(mask, 4, 0).any()


def test_place_occluder_covers_a_share_of_the_target():
    rng = np.random.default_rng(1)
    shapes = _shapes(1)
    for k in range(10):
        target, occluder = shapes[k], shapes[k + 10]
        placed = place_occluder(target, occluder, rng)
        assert placed is not None
        moved, (dy, dx) = placed
        np.testing.assert_array_equal(moved, shift_mask(occluder, dy, dx))
        share = (moved & target).sum() / target.sum()
        assert 0.001 < share < 0.9
    assert place_occluder(shapes[0], np.zeros_like(shapes[0]), rng) is None
    with pytest.raises(ValueError, match="same-shape"):
        place_occluder(shapes[0], shapes[1][:10], rng)


def test_fit_to_canvas_shrinks_a_larger_mask_into_the_corner():
    big = np.zeros((50, 80), bool)
    big[5:45, 10:70] = True  # a 40 x 60 box: halved to fit 20 x 40
    fitted = fit_to_canvas(big, (20, 40))
    assert fitted.shape == (20, 40) and mask_box(fitted) == (0, 0, 30, 20) and fitted[:, :30].all()
    assert fit_to_canvas(big, big.shape) is big


def test_views_erase_under_a_front_occluder_and_keep_the_target_behind_one():
    pool = InstancePool([PoolImage(_shapes(2))])
    rng = np.random.default_rng(3)
    config = ORNetConfig(size=32, widths=(8, 16))
    front = ImitationSampler(pool, config, front_probability=1.0).view(rng, *pool.sample(rng))
    assert not (front.target & front.occluder).any()  # the visible target lies outside the occluder
    assert ((front.label > 0) & (front.target == 0)).any()  # and the label holds the hidden part
    assert (front.target <= front.label).all()
    behind = ImitationSampler(pool, config, front_probability=0.0).view(rng, *pool.sample(rng))
    np.testing.assert_array_equal(behind.target, behind.label)
    assert not ((behind.occluder > 0) & (behind.label > 0)).any()
    np.testing.assert_array_equal(behind.weight, 1 + (OCCLUDED_WEIGHT - 1) * behind.occluder)
    (batch,) = ImitationSampler(pool, config).batch(rng, 4, views=1)
    assert batch["input"].shape == (4, 2, 32, 32) and batch["label"].shape == (4, 32, 32)


def test_cocoa_pool_draws_modal_masks_of_every_image(tmp_path):
    def region(x0, y0, x1, y1):
        return {"segmentation": [x0, y0, x1, y0, x1, y1, x0, y1], "name": "box", "isStuff": 0}

    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "height": 40, "width": 50},
                   {"id": 2, "file_name": "b.jpg", "height": 30, "width": 30}],
        "annotations": [
            {"image_id": 1, "size": 2, "regions": [region(5, 5, 25, 30), region(20, 10, 45, 35)], "depth_constraint": ""},
            {"image_id": 2, "size": 1, "regions": [region(2, 2, 20, 25)], "depth_constraint": ""},
        ],
    }
    path = tmp_path / "cocoa.json"
    path.write_text(json.dumps(data))
    pool = cocoa_pool(str(path), None, with_image=False)
    assert len(pool) == 3
    shapes = {pool.sample(np.random.default_rng(k))[0].shape for k in range(20)}
    assert shapes == {(40, 50), (30, 30)}
    config = ORNetConfig(size=32, widths=(8, 16))
    (batch,) = ImitationSampler(pool, config).batch(np.random.default_rng(0), 4, views=1)
    assert batch["input"].shape == (4, 2, 32, 32)
    with pytest.raises(ValueError, match="cocoa-images"):
        cocoa_pool(str(path), None, with_image=True)


def test_rgb_views_blank_the_occluder():
    shapes = _shapes(4)
    image = np.full((*shapes.shape[1:], 3), 200, np.uint8)
    pool = InstancePool([PoolImage(shapes, image)])
    config = ORNetConfig(size=32, widths=(8, 16), rgb=True)
    (batch,) = ImitationSampler(pool, config).batch(np.random.default_rng(5), 4, views=1)
    x = batch["input"]
    assert x.shape == (4, 5, 32, 32)
    assert (x[:, 2:][x[:, 1:2].expand(-1, 3, -1, -1) > 0] == 0).all()


# -- short runs ----------------------------------------------------------------------------------


def test_short_run_on_synthetic_scenes_lowers_both_losses_and_exports(tmp_path, capsys):
    threads = torch.get_num_threads()
    run = tmp_path / "run"
    args = ["--out", str(run), "--scenes", "16", "--refresh-every", "0", "--size", "32", "--widths", "8", "16",
            "--embed-dim", "16", "--batch", "16", "--queue", "64", "--threads", "1", "--lr", "3e-3",
            "--contrastive-steps", "80", "--decoder-steps", "60"]
    try:
        assert train_main(args) == 0
    finally:
        torch.set_num_threads(threads)
    rows = _log(run)
    assert [int(r["global_step"]) for r in rows] == list(range(1, 141))
    for stage in ("contrastive", "decoder"):
        losses = [float(r["loss"]) for r in rows if r["stage"] == stage]
        # The queue starts random: judge contrast from the first full queue (step 5) on.
        first, last = np.mean(losses[4:14]), np.mean(losses[-10:])
        assert last < first, (stage, first, last)
    model = load_ornet(run / "ornet.pt")
    assert model.config.size == 32 and (run / "config.json").is_file()
    assert train_main(args) == 2
    assert "already holds a run" in capsys.readouterr().err


def _train_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "training.ornet", *args]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def test_two_process_torchrun_completes(tmp_path, masks_file):
    run = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m",
               "training.ornet", "--out", str(run), "--masks", str(masks_file), *TINY,
               "--contrastive-steps", "3", "--decoder-steps", "3", "--device", "cpu"]
    done = subprocess.run(command, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [int(r["global_step"]) for r in _log(run)] == list(range(1, 7))
    assert load_ornet(run / "ornet.pt").config.widths == (8, 16)


def test_resume_after_kill_continues_from_the_checkpoint(tmp_path, masks_file):
    steps = ["--contrastive-steps", "20", "--decoder-steps", "40", "--checkpoint-every", "5"]
    run = tmp_path / "killed"
    process = subprocess.Popen(_train_command("--out", str(run), "--masks", str(masks_file), *TINY, *steps),
                               cwd=REPO, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while not (run / "checkpoint.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    checkpoint = load_checkpoint(run / "checkpoint.pt")
    killed_at = checkpoint["step"] if checkpoint["stage_index"] == 0 else 20 + checkpoint["step"]
    assert 0 < killed_at < 60 and not (run / "ornet.pt").exists()

    done = subprocess.run(_train_command("--out", str(run), "--resume"), cwd=REPO, env=_env(),
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [int(r["global_step"]) for r in _log(run)] == list(range(1, 61))

    # Same seed, never interrupted: the resumed run must end with the very same weights.
    straight = tmp_path / "straight"
    done = subprocess.run(_train_command("--out", str(straight), "--masks", str(masks_file), *TINY, *steps),
                          cwd=REPO, env=_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    resumed, reference = load_ornet(run / "ornet.pt").state_dict(), load_ornet(straight / "ornet.pt").state_dict()
    for name, tensor in reference.items():
        torch.testing.assert_close(resumed[name], tensor, msg=name)


def test_fine_tuning_starts_from_exported_weights_and_takes_their_settings(tmp_path, masks_file):
    threads = torch.get_num_threads()
    base, tuned = tmp_path / "base", tmp_path / "tuned"
    try:
        assert train_main(["--out", str(base), "--masks", str(masks_file), *TINY,
                           "--contrastive-steps", "2", "--decoder-steps", "2"]) == 0
        # No model settings given: the defaults (size 64, ...) must not apply; lr 0 keeps the weights.
        assert train_main(["--out", str(tuned), "--masks", str(masks_file), "--init", str(base / "ornet.pt"),
                           "--batch", "8", "--threads", "1", "--lr", "0",
                           "--contrastive-steps", "0", "--decoder-steps", "1"]) == 0
    finally:
        torch.set_num_threads(threads)
    config = json.loads((tuned / "config.json").read_text())
    assert (config["size"], config["widths"], config["init"]) == (32, [8, 16], str(base / "ornet.pt"))
    start, end = load_ornet(base / "ornet.pt").state_dict(), load_ornet(tuned / "ornet.pt").state_dict()
    for name, tensor in start.items():
        if "running" not in name and "num_batches" not in name:  # batch-norm statistics move in train mode
            torch.testing.assert_close(end[name], tensor, msg=name)


def test_the_ablation_leaves_stage_one_out(tmp_path, masks_file):
    threads = torch.get_num_threads()
    run = tmp_path / "nocon"
    try:
        assert train_main(["--out", str(run), "--masks", str(masks_file), *TINY, "--no-contrastive",
                           "--contrastive-steps", "5", "--decoder-steps", "3"]) == 0
    finally:
        torch.set_num_threads(threads)
    assert [(r["stage"], int(r["global_step"])) for r in _log(run)] == [("end_to_end", k) for k in (1, 2, 3)]
