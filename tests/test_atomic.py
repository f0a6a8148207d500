"""Atomic writes: a failed write leaves the old file intact and no temporary behind."""

import os

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
