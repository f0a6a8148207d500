"""Video writing under hostile conditions: bad frame rates, kills that leave partial files, and a
demo that must stream its frames instead of holding the clip in memory."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from interorder_rt.cli.main import main
from interorder_rt.io import video as video_io
from interorder_rt.io.atomic import remove_stale_partials
from interorder_rt.io.video import VideoWriter
from interorder_rt.synth.scene import Scene

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("fps", [float("inf"), float("nan"), 0.0, -5.0])
def test_writer_refuses_a_frame_rate_that_is_not_finite_and_positive(tmp_path, fps):
    with pytest.raises(ValueError, match="fps must be a finite positive number"):
        VideoWriter(tmp_path / "out.mp4", fps)


def test_demo_refuses_fps_inf_instead_of_hanging(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--frames", "2", "--size", "64", "--fps", "inf"]) == 2
    assert "--fps must be a finite positive number, got inf" in capsys.readouterr().err


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_partials_of_dead_writers_are_removed_on_start_and_live_ones_kept(tmp_path):
    target = tmp_path / "clip.mp4"
    stale = tmp_path / f".clip.mp4.{dead_pid()}.k2j4.mp4"
    live = tmp_path / f".clip.mp4.{os.getpid()}.a8x1.mp4"
    other = tmp_path / f".other.mp4.{dead_pid()}.b7f2.mp4"
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    assert remove_stale_partials(target, target.suffix) == [stale]
    assert not stale.exists() and live.exists() and other.exists()
    live.unlink()
    stale.write_bytes(b"partial")
    with VideoWriter(target, 5.0) as writer:
        writer.write(np.zeros((16, 16, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([writer.path.name, other.name])


WRITER = """
import sys, numpy as np
from interorder_rt.io.video import VideoWriter
with VideoWriter(sys.argv[1], 12.0) as writer:
    while True:
        writer.write(np.zeros((16, 16, 3), np.uint8))
"""


def start_until_writing(args: list[str], out: Path) -> subprocess.Popen:
    """A Python subprocess, returned once a partial video file exists in ``out``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, *args], env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while not list(out.glob(".*.mp4")):
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child never started writing"
            time.sleep(0.05)
    except AssertionError:
        child.kill()
        raise
    return child


def test_sigterm_makes_the_demo_discard_its_partial_video(tmp_path):
    demo = start_until_writing(["-m", "interorder_rt.cli", "demo", "--out", str(tmp_path), "--frames", "400",
                                "--size", "64", "--no-progress"], tmp_path)
    demo.send_signal(signal.SIGTERM)
    assert demo.wait(60) == 128 + signal.SIGTERM
    assert list(tmp_path.glob(".*")) == []


def test_the_partial_a_kill_9_leaves_is_removed_by_the_next_writer(tmp_path):
    killed = start_until_writing(["-c", WRITER, str(tmp_path / "clip.mp4")], tmp_path)
    killed.kill()
    killed.wait(60)
    assert list(tmp_path.glob(".clip.mp4.*"))  # kill -9 leaves the partial file behind...
    with VideoWriter(tmp_path / "clip.mp4", 12.0) as writer:
        assert list(tmp_path.glob(".*")) == [Path(writer._tmp)]  # ...and the next writer of that video removes it
        writer.write(np.zeros((16, 16, 3), np.uint8))


def test_demo_streams_frames_to_the_writer_instead_of_keeping_the_clip(tmp_path, monkeypatch):
    alive = []
    write = VideoWriter.write

    def counting_write(self, frame):
        gc.collect()
        alive.append(sum(type(o) is Scene for o in gc.get_objects()))
        write(self, frame)

    monkeypatch.setattr(video_io.VideoWriter, "write", counting_write)
    assert main(["demo", "--out", str(tmp_path), "--frames", "6", "--size", "64", "--no-progress"]) == 0
    assert len(alive) == 6 and max(alive) <= alive[0] + 1  # flat: the scene shown and the one kept for the graph
