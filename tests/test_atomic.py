"""Atomic writes: a failed write leaves the old file intact and no temporary behind."""

import os
import subprocess
import sys

import numpy as np
import pytest

from interorder_rt.io.atomic import atomic_imwrite, atomic_open, atomic_write_bytes


def test_replaces_content_with_normal_permissions(tmp_path):
    path = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(path, b"first")
    atomic_write_bytes(path, b"second")
    assert path.read_bytes() == b"second"
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~_umask()


def test_failure_keeps_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "file.bin"
    atomic_write_bytes(path, b"old")
    with pytest.raises(RuntimeError):
        with atomic_open(path) as f:
            f.write(b"half")
            raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]


def test_partials_left_by_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    path = tmp_path / "file.bin"
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a process id that no longer runs, as after kill -9
    stale = tmp_path / f".file.bin.{child.pid}.x1y2.tmp"
    live = tmp_path / f".file.bin.{os.getpid()}.a3b4.tmp"
    stale.write_bytes(b"half")
    live.write_bytes(b"half")
    atomic_write_bytes(path, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["file.bin", live.name])


def test_imwrite_round_trip(tmp_path):
    import cv2

    image = np.random.default_rng(0).integers(0, 255, (8, 9, 3), dtype=np.uint8)
    atomic_imwrite(tmp_path / "x.png", image)
    back = cv2.imread(str(tmp_path / "x.png"))[..., ::-1]
    np.testing.assert_array_equal(back, image)


def test_imwrite_unknown_extension_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="encode"):
        atomic_imwrite(tmp_path / "x.notanimage", np.zeros((2, 2, 3), np.uint8))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
