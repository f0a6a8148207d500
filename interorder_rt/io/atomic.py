"""Atomic file writes: a reader never sees a half-written checkpoint, engine or image.

A partial file lies beside its target, named after it and after the writing process
(``.NAME.PID.*``); writers remove the partials of processes that died (kill -9, a crash) before
they start, so none piles up.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one rename.

    An OSError of the write (read-only folder, full disk, ``path`` a folder, its parent a file)
    names ``path``, never the temporary file.
    """
    path = Path(path)
    _make_parent(path)
    remove_stale_partials(path, ".tmp")
    try:
        fd, tmp = tempfile.mkstemp(prefix=partial_prefix(path), suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp):
            raise _naming(exc, path) from exc
        raise


def partial_prefix(path: Path) -> str:
    """The start of a partial file's name: the target's name and this process's id."""
    return f".{path.name}.{os.getpid()}."


def remove_stale_partials(path: Path, suffix: str) -> list[Path]:
    """Delete the partial files of ``path`` (ending in ``suffix``) whose writer is gone; returns them."""
    removed = []
    for partial in path.parent.glob(f".{glob.escape(path.name)}.*{glob.escape(suffix)}"):
        pid = partial.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
                removed.append(partial)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _make_parent(path: Path) -> None:
    """Create ``path``'s folder; a file standing where a folder should be is named as such."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        blocker = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()), path.parent)
        message = "a file stands where the output folder should be"
        raise NotADirectoryError(errno.ENOTDIR, message, str(blocker)) from None


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` with ``path`` as its file name (the same OSError subclass, chosen by errno)."""
    return OSError(exc.errno, exc.strerror, str(path))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_torch_save(obj, path: str | os.PathLike) -> None:
    """``torch.save`` to ``path`` atomically."""
    import torch

    with atomic_open(path, "wb") as f:
        torch.save(obj, f)


def atomic_imwrite(path: str | os.PathLike, image_rgb) -> None:
    """Write an RGB uint8 image (PNG/JPEG by extension) atomically."""
    import cv2
    import numpy as np

    ext = Path(path).suffix or ".png"
    try:
        ok, buf = cv2.imencode(ext, np.ascontiguousarray(image_rgb[..., ::-1]))
    except cv2.error:
        ok = False
    if not ok:
        raise ValueError(f"could not encode an image as {ext!r} for {path}")
    atomic_write_bytes(path, buf.tobytes())
