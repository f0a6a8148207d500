"""Errors a user can act on end the ``interorder`` command with one line and exit code 2, naming the
user's path (never a temporary file), the device, or the size that is too large."""

from __future__ import annotations

import errno
import os

import pytest
import torch
from limited_run import run_limited

from interorder_rt.cli.main import main
from interorder_rt.io import atomic
from interorder_rt.io.atomic import atomic_write_bytes


def _fails_in_one_line(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"interorder {argv[0]}: error: "), err
    assert ".tmp" not in err, err
    return lines[0]


def test_output_path_that_is_a_folder_is_named(tmp_path, capsys):
    line = _fails_in_one_line(["synth", "--show", str(tmp_path), "--count", "1", "--size", "64", "64"], capsys)
    assert line.endswith(f"Is a directory: {tmp_path}")
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary file left behind


def test_output_under_a_file_names_that_file(tmp_path, capsys):
    blocker = tmp_path / "taken"
    blocker.write_text("")
    line = _fails_in_one_line(["synth", "--show", str(blocker / "grid.png"), "--count", "1"], capsys)
    assert line.endswith(f"a file stands where the output folder should be: {blocker}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_read_only_output_folder_is_named(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        line = _fails_in_one_line(["synth", "--show", str(folder / "grid.png"), "--count", "1"], capsys)
    finally:
        folder.chmod(0o755)
    assert line.endswith(f"Permission denied: {folder / 'grid.png'}")


@pytest.mark.parametrize("step", ["mkstemp", "replace"])
def test_a_failing_write_names_the_users_path_not_the_temporary_file(tmp_path, monkeypatch, step):
    """A read-only file system (EROFS; root is refused too), simulated at either end of the write."""

    def refuse(*args, **kwargs):  # os.replace names both its paths, mkstemp a name of its choice
        names = args if step == "replace" else (str(tmp_path / ".out.png.x.tmp"),)
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), *map(str, names))

    monkeypatch.setattr(atomic.tempfile if step == "mkstemp" else atomic.os, step, refuse)
    with pytest.raises(OSError) as error:
        atomic_write_bytes(tmp_path / "out.png", b"data")
    assert (error.value.errno, error.value.filename) == (errno.EROFS, str(tmp_path / "out.png"))
    assert str(error.value) == f"[Errno {errno.EROFS}] Read-only file system: '{tmp_path / 'out.png'}'"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a usable GPU")
def test_cuda_without_a_gpu_is_refused_before_any_work(tmp_path, capsys):
    line = _fails_in_one_line(["demo", "--device", "cuda", "--frames", "2", "--out", str(tmp_path / "d")], capsys)
    assert "--device cuda" in line and "use --device cpu" in line
    assert not (tmp_path / "d").exists()


def test_a_device_that_is_not_one_is_refused(tmp_path, capsys):
    line = _fails_in_one_line(["demo", "--device", "gpu0", "--frames", "2", "--out", str(tmp_path / "d")], capsys)
    assert "--device 'gpu0' is not a device" in line


def test_a_frame_count_too_large_for_a_number_is_one_line(tmp_path, capsys):
    _fails_in_one_line(["demo", "--frames", str(10**21), "--out", str(tmp_path / "d"), "--no-progress"], capsys)


def test_a_size_too_large_for_memory_is_one_line(tmp_path):
    """With 2 GiB of address space to spare, so that the answer does not depend on the machine's memory."""
    args = ["synth", "--show", str(tmp_path / "g.png"), "--count", "1", "--size", "100000", "100000"]
    done = run_limited(f"import sys\nfrom interorder_rt.cli.main import main\nsys.exit(main({args!r}))", timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.startswith("interorder synth: error: out of memory") and done.stderr.count("\n") == 1
