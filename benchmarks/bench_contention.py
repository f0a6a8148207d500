"""The order stage on an idle and on a busy machine, with spinning and with sleeping worker threads.

The frame of ``bench_order_recovery`` (8 instances, 256 x 256) goes through ``OrderRecovery`` on 2
threads with each backend, once on an idle machine and once while two other processes keep both
cores busy (a video decoder, a second job). ``OMP_WAIT_POLICY`` sets whether waiting OpenMP threads
spin (``ACTIVE``: the fastest on an idle machine) or sleep (``PASSIVE``: what the README advises
for shared machines). It governs torch's threads and the mask kernels'; ONNX Runtime's own threads
never spin (``interorder_rt.backends.onnx_runtime``). The OpenMP runtime reads the policy once,
when it loads, so each setting runs in its own worker process. A round is one request to the
worker and its answer; ``ACTIVE`` is each group's baseline.
Run: ``python -m pytest benchmarks/bench_contention.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from interorder_rt.backends import onnx_runtime

WORKER = """
import sys
import numpy as np
from interorder_rt import MaskSet, OrderRecovery

masks = MaskSet(np.load(sys.argv[1]))
recovery = OrderRecovery(threads=int(sys.argv[2]), backend=sys.argv[3])
recovery(masks)
print("ready", flush=True)
for _ in sys.stdin:
    recovery(masks)
    print("done", flush=True)
"""


class OrderWorker:
    """A process that runs the order stage on one frame each time it is asked."""

    def __init__(self, frame_file: Path, policy: str, threads: int, backend: str) -> None:
        env = {**os.environ, "OMP_WAIT_POLICY": policy}
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(frame_file), str(threads), backend],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {policy} worker failed to start (exit code {self.process.poll()})")

    def __call__(self) -> None:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        if self.process.stdout.readline().strip() != "done":
            raise RuntimeError(f"the worker died (exit code {self.process.poll()})")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def frame_file(eight_instances: np.ndarray, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("contention") / "masks.npy"
    np.save(path, eight_instances)
    return path


@pytest.fixture()
def other_load(request):
    """``request.param`` processes that each keep one core busy while the test runs."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(request.param)]
    yield request.param
    for burner in burners:
        burner.kill()
        burner.wait()


@pytest.mark.parametrize("policy", ["ACTIVE", "PASSIVE"])
@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
@pytest.mark.parametrize("other_load", [0, 2], indirect=True, ids=["idle", "both-cores-busy"])
@pytest.mark.benchmark(group="order-stage-under-load")
def test_order_stage_under_load(benchmark, frame_file, torch_threads, other_load, backend, policy):
    if backend == "onnxruntime" and not onnx_runtime.available():
        pytest.skip("onnx / onnxruntime not installed")
    worker = OrderWorker(frame_file, policy, torch_threads, backend)
    try:
        benchmark.extra_info.update(
            ratio_group=f"order stage ({backend}), N=8 at 256², {other_load} other busy processes on 2 cores",
            route=f"wait {policy.lower()}",
            baseline=policy == "ACTIVE",
        )
        benchmark.pedantic(worker, rounds=30, warmup_rounds=3)
    finally:
        worker.close()
