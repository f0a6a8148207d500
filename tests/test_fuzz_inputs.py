"""Fuzz the annotation JSON loader and the ``Frame`` checks with hypothesis (``fuzz_inputs.py``)
in a child process under a memory limit: a clear ValueError/TypeError or a correct result for
every input, never a signal, a hang or an exhausted memory (issue 9)."""

from __future__ import annotations

import re
from pathlib import Path

from limited_run import run_limited

HERE = Path(__file__).resolve().parent


def test_fuzz_annotations_and_frames_under_a_memory_limit():
    done = run_limited(f"import sys\nsys.path.insert(0, {str(HERE)!r})\nimport fuzz_inputs\nfuzz_inputs.main()",
                       timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    accepted = dict(re.findall(r"^(\w+): \d+ examples passed, (\d+) of them accepted$", done.stdout, re.MULTILINE))
    assert set(accepted) == {"annotations", "json_text", "frames"}, done.stdout
    # The generators reach the decoders and checks, not only the first refusal.
    assert int(accepted["annotations"]) >= 30 and int(accepted["frames"]) >= 100, done.stdout
