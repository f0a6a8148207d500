"""Run Python code in a child process under a memory limit, so that input which crashes or
exhausts memory fails a test instead of killing the test run (or the machine)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEMORY_LIMIT = 2 << 30  # bytes of address space beyond what the libraries map when they load

# The limit is set after the libraries load: what they map then grows with the machine (a BLAS
# buffer per core, a CUDA build of torch) and is not what a test limits; on a 16-core GPU
# machine a fixed 2 GiB made the child die of SIGSEGV while loading them.
_PRELUDE = f"""
import resource
import cv2, numpy, torch, interorder_rt
with open("/proc/self/statm") as statm:
    mapped = int(statm.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (mapped + {MEMORY_LIMIT}, mapped + {MEMORY_LIMIT}))
"""


def run_limited(code: str, *, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``code`` with ``MEMORY_LIMIT`` of address space to spare; a child killed by a signal or past
    ``timeout`` fails with a message naming it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PRELUDE + code], cwd=REPO, env=env, capture_output=True, text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the child process hung (still running after {timeout:.0f} s)") from None
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        raise AssertionError(f"the child process died of {name}:\n{done.stdout}\n{done.stderr}")
    return done
