"""ONNX Runtime on the CPU for the runtime's small convolutional nets.

A torch module is exported to ONNX in memory (or an exported file is read), with a dynamic batch
dimension, and run by an ONNX Runtime session. For ORNet's batched forward this is about 1.7x
faster than eager torch on these CPUs (``benchmarks/bench_order_recovery.py``). Needs the ``onnx``
package (torch's exporter writes through it) and ``onnxruntime``.

ONNX Runtime's worker threads are told to sleep rather than spin while they wait. The process
also runs OpenMP thread pools (torch's, the mask kernels'), and on 2 cores spinning pools steal
each other's cores: with spinning, the order stage over 100 scenes measured anywhere from 9 to 29
ms per image from one run to the next; without, 9 to 10 ms.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import torch
from torch import nn

from interorder_rt.backends.onnx_models import INPUT, trace_to_onnx


def default_threads() -> int:
    """CPU threads a backend uses when not told: torch's setting, at most 4 (small nets gain no more)."""
    return min(4, torch.get_num_threads())


def available() -> bool:
    """Whether ``onnx`` and ``onnxruntime`` can be imported."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


class OnnxRuntimeModel:
    """A net run by ONNX Runtime on ``threads`` CPU threads: float32 array in, float32 array out.

    Built from a torch ``model`` and an ``example`` input, or (``from_onnx``) from ONNX bytes;
    an FP16 model gets its input cast to float16 and its output back to float32.
    """

    def __init__(self, model: nn.Module, example: torch.Tensor, threads: int) -> None:
        self._open(trace_to_onnx(model.eval(), example), threads)

    @classmethod
    def from_onnx(cls, data: bytes, threads: int) -> "OnnxRuntimeModel":
        runtime = cls.__new__(cls)
        runtime._open(data, threads)
        return runtime

    def _open(self, data: bytes, threads: int) -> None:
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
        self.session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        half = self.session.get_inputs()[0].type == "tensor(float16)"
        self.input_dtype = np.float16 if half else np.float32

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = self.session.run(None, {INPUT: np.ascontiguousarray(x, dtype=self.input_dtype)})[0]
        return y.astype(np.float32, copy=False)
