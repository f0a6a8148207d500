"""SIGTERM as a clean exit, so that a terminated command discards its partial output files."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


def _exit(signum: int, frame) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises ``SystemExit(143)``: ``with`` blocks unwind and clean up.

    Python's default on SIGTERM ends the process at once, leaving temporary files behind. Only
    the main thread can set a handler; elsewhere the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
