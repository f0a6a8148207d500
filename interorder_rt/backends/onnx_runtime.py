"""ONNX Runtime on the CPU for the runtime's small convolutional nets.

A torch module is exported to ONNX in memory, with a dynamic batch dimension, and run by an ONNX
Runtime session. For ORNet's batched forward this is about 1.7x faster than eager torch on these
CPUs (``benchmarks/bench_order_recovery.py``). Needs the ``onnx`` package (torch's exporter writes
through it) and ``onnxruntime``.

ONNX Runtime's worker threads are told to sleep rather than spin while they wait. The process
also runs OpenMP thread pools (torch's, the mask kernels'), and on 2 cores spinning pools steal
each other's cores: with spinning, the order stage over 100 scenes measured anywhere from 9 to 29
ms per image from one run to the next; without, 9 to 10 ms.
"""

from __future__ import annotations

import importlib.util
import io
import warnings

import numpy as np
import torch
from torch import nn


BACKENDS = ("auto", "torch", "onnxruntime")


def resolve_backend(backend: str, device: torch.device) -> str:
    """What ``backend`` stands for on ``device``: ``"auto"`` is ONNX Runtime on the CPU when it is
    installed, else torch. ValueError for an unknown name or for ONNX Runtime off the CPU."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "onnxruntime" and device.type != "cpu":
        raise ValueError(f"the onnxruntime backend runs on the CPU, not on {device}")
    if backend == "auto":
        return "onnxruntime" if device.type == "cpu" and available() else "torch"
    return backend


def default_threads() -> int:
    """CPU threads a backend uses when not told: torch's setting, at most 4 (small nets gain no more)."""
    return min(4, torch.get_num_threads())


def available() -> bool:
    """Whether ``onnx`` and ``onnxruntime`` can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def export_onnx(model: nn.Module, example: torch.Tensor) -> bytes:
    """``model`` (eval mode) as an ONNX graph with one input ``x`` and one output ``y``; batch is dynamic."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of one that needs onnxscript; it is
        # what runs without it, and it handles these plain convolutional nets fully.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model, (example,), buffer, dynamo=False, input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
        )
    return buffer.getvalue()


class OnnxRuntimeModel:
    """``model``'s forward run by ONNX Runtime on ``threads`` CPU threads: float32 array in, array out."""

    def __init__(self, model: nn.Module, example: torch.Tensor, threads: int) -> None:
        if not available():
            raise ImportError("the onnxruntime backend needs the onnx and onnxruntime packages: pip install onnx onnxruntime")
        import onnxruntime

        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            export_onnx(model.eval(), example), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"x": np.ascontiguousarray(x, dtype=np.float32)})[0]
