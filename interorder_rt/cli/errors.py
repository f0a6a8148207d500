"""What the ``interorder`` command does with an error a user can act on: one line, exit code 2.

Bad input (``ValueError``, ``TypeError``), files (``OSError``: missing, read-only, a folder where a
file should be), sizes too large for memory (``MemoryError``) or for a number type
(``OverflowError``) all end the command with a line naming the problem. A ``--device`` is checked
before any work starts. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

USER_ERRORS = (ValueError, TypeError, OSError, MemoryError, OverflowError)


def describe(exc: BaseException) -> str:
    """``exc`` as one line for a user."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        names = " -> ".join(str(name) for name in (exc.filename, exc.filename2) if name is not None)
        return f"{exc.strerror}: {names}"
    if isinstance(exc, MemoryError):
        return f"out of memory ({exc or 'an allocation failed'}): try smaller sizes or fewer frames"
    if isinstance(exc, OverflowError):
        return f"a number is too large ({exc})"
    return " ".join(str(exc).split()) or type(exc).__name__


def check_device(name: str) -> None:
    """Raise ValueError unless ``name`` is ``cpu`` or a CUDA device this torch can use."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(f"--device {name!r} is not a device: use cpu, cuda or cuda:N") from None
    if device.type == "cpu":
        return
    if device.type != "cuda":
        raise ValueError(f"--device {name!r}: only cpu and cuda are supported")
    if not torch.backends.cuda.is_built():
        raise ValueError(f"--device {name}: this torch was built without CUDA; use --device cpu")
    count = torch.cuda.device_count()
    if count == 0:
        raise ValueError(f"--device {name}: no CUDA device is usable on this machine; use --device cpu")
    if (device.index or 0) >= count:
        raise ValueError(f"--device {name}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}")
