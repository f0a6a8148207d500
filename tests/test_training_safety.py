"""Training against bad input: checkpoints are untrusted (weights-only, checksummed, errors name the
file), options are range-checked, a loss that stops being finite ends the run, and inference
weights with NaN or infinity are refused."""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from interorder_rt.models.mnet import MNet, MNetConfig
from interorder_rt.models.ornet import ORNet, ORNetConfig, export_checkpoint, load_ornet
from training.checkpoint import MAGIC, CheckpointError, load_checkpoint, restore_rng, rng_state, save_checkpoint
from training.checks import NonFiniteLoss
from training.mnet.config import TrainConfig
from training.mnet.run import train as train_mnet
from training.mnet.trainer import MNetTrainer
from training.ornet import Trainer
from training.ornet import main as train_ornet

TINY = ["--size", "32", "--widths", "8", "16", "--embed-dim", "8", "--batch", "8", "--queue", "16", "--threads", "1"]
MNET_TINY = dict(crop_size=32, widths=(8, 8, 16, 16), embed_dim=16, height=96, width=96, pool_size=4, pool_refresh=1,
                 batch_size=4, queue_size=32, eval_size=8, disc_width=8, threads=1, log_every=1, eval_every=2,
                 ckpt_every=1)


@pytest.fixture(autouse=True)
def _keep_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def masks_file(tmp_path_factory) -> Path:
    masks = np.zeros((6, 64, 64), np.uint8)
    for k in range(6):
        cv2.circle(masks[k], (12 + 8 * k, 20 + 4 * k), 11, 1, -1)
    path = tmp_path_factory.mktemp("masks") / "circles.npy"
    np.save(path, masks.astype(bool))
    return path


@pytest.fixture(scope="module")
def ornet_run(tmp_path_factory, masks_file) -> Path:
    """A finished 2 + 2 step ORNet run (its checkpoint is the last stage end's)."""
    run = tmp_path_factory.mktemp("ornet") / "run"
    threads = torch.get_num_threads()
    try:
        assert train_ornet(["--out", str(run), "--masks", str(masks_file), *TINY,
                            "--contrastive-steps", "2", "--decoder-steps", "2"]) == 0
    finally:
        torch.set_num_threads(threads)
    return run


class _RunsCode:
    """Unpickling this makes the folder ``marker``: what a hostile checkpoint could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


def _container(body: bytes) -> bytes:
    """A well-formed checkpoint file around ``body`` (a hostile author can compute the checksum too)."""
    return MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


# -- checkpoints -----------------------------------------------------------------------------------


def test_checkpoint_round_trip_restores_every_random_stream(tmp_path):
    generator = np.random.default_rng(5)
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"rng": rng_state(generator), "step": 7, "weights": torch.arange(4.0)}, path)
    expected = (generator.random(), random.random(), torch.rand(2))
    random.seed(1), torch.manual_seed(1), generator.random()
    state = load_checkpoint(path, ["rng", "step"])
    restore_rng(state["rng"], generator)
    assert (generator.random(), random.random()) == expected[:2] and torch.equal(torch.rand(2), expected[2])
    assert state["step"] == 7 and torch.equal(state["weights"], torch.arange(4.0))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "code-ran"
    buffer = io.BytesIO()
    torch.save({"step": 1, "payload": _RunsCode(marker)}, buffer)
    plain, wrapped = tmp_path / "plain.pt", tmp_path / "wrapped.pt"
    plain.write_bytes(buffer.getvalue())
    wrapped.write_bytes(_container(buffer.getvalue()))
    with pytest.raises(ValueError, match="plain.pt"):
        load_checkpoint(plain)
    with pytest.raises(CheckpointError, match="wrapped.pt holds more than tensors and plain data"):
        load_checkpoint(wrapped)
    assert not marker.exists()


def _flip_last_byte(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 0x10])


DAMAGE = {
    "empty": (lambda raw: b"", "is empty"),
    "truncated": (lambda raw: raw[: len(raw) // 2], "do not match their checksum"),
    "bit rot": (_flip_last_byte, "do not match their checksum"),
    "random bytes": (lambda raw: np.random.default_rng(0).bytes(len(raw)), "not an interorder_rt training checkpoint"),
    "old format": (lambda raw: raw[raw.index(b"\n") + 1 :], "not an interorder_rt training checkpoint"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_checkpoint_is_refused_naming_the_file(tmp_path, damage):
    edit, reason = DAMAGE[damage]
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"step": 3, "weights": torch.ones(64, 64)}, path)
    path.write_bytes(edit(path.read_bytes()))
    with pytest.raises(CheckpointError, match=reason) as error:
        load_checkpoint(path)
    assert str(path) in str(error.value)


def test_a_checkpoint_with_other_keys_is_refused_naming_what_is_missing(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint({"step": 3}, path)
    with pytest.raises(CheckpointError, match=r"ckpt.pt lacks 'model', 'queue'"):
        load_checkpoint(path, ["step", "model", "queue"])
    save_checkpoint([1, 2], path)
    with pytest.raises(CheckpointError, match="holds a list"):
        load_checkpoint(path)


def test_ornet_resume_refuses_a_truncated_or_foreign_checkpoint(tmp_path, ornet_run, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_bytes((ornet_run / "config.json").read_bytes())
    checkpoint = run / "checkpoint.pt"
    checkpoint.write_bytes((ornet_run / "checkpoint.pt").read_bytes()[:-100])
    assert train_ornet(["--out", str(run), "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"checkpoint {checkpoint} is corrupt" in err and "Traceback" not in err
    save_checkpoint({"step": 0}, checkpoint)
    assert train_ornet(["--out", str(run), "--resume"]) == 2
    assert f"checkpoint {checkpoint} lacks 'stage_index'" in capsys.readouterr().err
    state = load_checkpoint(ornet_run / "checkpoint.pt")
    state["model"] = {"not": torch.zeros(1)}
    save_checkpoint(state, checkpoint)
    assert train_ornet(["--out", str(run), "--resume"]) == 2
    assert f"checkpoint {checkpoint} does not fit this run" in capsys.readouterr().err


def test_mnet_resume_refuses_a_bit_rotted_checkpoint(tmp_path):
    config = dict(MNET_TINY, out=str(tmp_path / "run"), contrastive_steps=1, steps=1)
    train_mnet(TrainConfig(**config))
    checkpoint = tmp_path / "run" / "last.pt"
    checkpoint.write_bytes(_flip_last_byte(checkpoint.read_bytes()))
    with pytest.raises(CheckpointError, match=f"checkpoint {checkpoint} is corrupt"):
        train_mnet(TrainConfig(**{**config, "steps": 2, "resume": True}))


# -- options and losses ------------------------------------------------------------------------------

BAD_ORNET_OPTIONS = {
    "--lr": ("nan", "--lr must be a finite number"),
    "--tau": ("0", r"--tau must be a finite number in \(0, inf\), got 0.0"),
    "--momentum": ("1", r"--momentum must be a finite number in \[0, 1\)"),
    "--encoder-lr-scale": ("inf", "--encoder-lr-scale must be a finite number"),
    "--batch": ("0", "--batch must be"),
    "--front-probability": ("1.5", "--front-probability must be"),
    "--enlarge": ("nan", "--enlarge must be"),
}


@pytest.mark.parametrize("option", BAD_ORNET_OPTIONS)
def test_ornet_refuses_an_option_out_of_range_before_it_trains(tmp_path, masks_file, capsys, option):
    value, message = BAD_ORNET_OPTIONS[option]
    run = tmp_path / "run"
    assert train_ornet(["--out", str(run), "--masks", str(masks_file), *TINY, "--contrastive-steps", "1",
                        "--decoder-steps", "1", option, value]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not run.exists()


@pytest.mark.parametrize("field, value", [("lr", math.nan), ("temperature", 0.0), ("hole_weight", math.inf),
                                          ("momentum", math.nan), ("max_minutes", -1.0), ("threads", 0)])
def test_mnet_refuses_an_option_out_of_range(field, value):
    with pytest.raises(ValueError, match=f"{field} must be a finite number"):
        TrainConfig(**{field: value})


def test_ornet_stops_at_the_step_whose_loss_is_not_finite(tmp_path, masks_file, capsys, monkeypatch):
    completion_loss = Trainer.completion_loss
    calls = []

    def poisoned(self, *args):
        calls.append(1)
        loss = completion_loss(self, *args)
        return loss * math.nan if len(calls) == 3 else loss

    monkeypatch.setattr(Trainer, "completion_loss", poisoned)
    run = tmp_path / "run"
    assert train_ornet(["--out", str(run), "--masks", str(masks_file), *TINY, "--contrastive-steps", "1",
                        "--decoder-steps", "5", "--checkpoint-every", "1"]) == 2
    assert "training stopped at step 4: decoder loss = nan is not finite" in capsys.readouterr().err
    state = load_checkpoint(run / "checkpoint.pt")
    assert (state["stage_index"], state["step"]) == (1, 2) and not (run / "ornet.pt").exists()
    assert all(torch.isfinite(t).all() for t in state["model"].values() if t.is_floating_point())


def test_mnet_stops_at_the_step_whose_loss_is_not_finite(tmp_path, monkeypatch):
    generator_step = MNetTrainer._generator_step

    def poisoned(self):
        losses = generator_step(self)
        return {**losses, "l1": math.inf} if self.step == 2 else losses

    monkeypatch.setattr(MNetTrainer, "_generator_step", poisoned)
    with pytest.raises(NonFiniteLoss, match="training stopped at step 3: l1 = inf"):
        train_mnet(TrainConfig(**dict(MNET_TINY, out=str(tmp_path / "run"), contrastive_steps=1, steps=4)))
    assert load_checkpoint(tmp_path / "run" / "last.pt")["step"] == 2


# -- inference weights -------------------------------------------------------------------------------


def test_inference_weights_with_nan_or_infinity_are_refused(tmp_path):
    ornet = ORNet(ORNetConfig(size=32, widths=(8, 16), embed_dim=8))
    payload = export_checkpoint(ornet)
    name = next(k for k, v in payload["state_dict"].items() if v.is_floating_point())
    payload["state_dict"][name].view(-1)[0] = math.nan
    torch.save(payload, tmp_path / "ornet.pt")
    with pytest.raises(ValueError, match=f"ornet.pt are corrupt: {name} holds 1 NaN or infinite"):
        load_ornet(tmp_path / "ornet.pt")
    payload = MNet(MNetConfig(32, (8, 8, 16, 16), 16)).checkpoint()
    name = next(k for k, v in payload["state_dict"].items() if v.is_floating_point())
    payload["state_dict"][name].fill_(math.inf)
    torch.save(payload, tmp_path / "mnet.pt")
    with pytest.raises(ValueError, match=f"mnet.pt are corrupt: {name} holds"):
        MNet.from_checkpoint(tmp_path / "mnet.pt")
