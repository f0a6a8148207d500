"""torch on CUDA with CUDA graphs: one captured graph per batch bucket, replayed per call.

ORNet's batch (2P crops) changes from frame to frame, and launching its few dozen small kernels
one by one costs more than running them. Each bucket (``batching``) gets static input and output
buffers and a graph captured after a warm-up on a side stream (cuDNN picks its algorithms and
allocates workspace there, outside the capture). A call copies its crops into the bucket's
input, replays the graph on torch's current stream and copies the output out. All buckets share
one graph memory pool. Weights and buffers are channels-last, the layout cuDNN's fastest
convolutions take. Half precision is not used: no measurement has shown the order and fill
unchanged in it. Nor is TF32, which torch lets cuDNN use for FP32 convolutions by default on
Ampere and later: on an H200 it moved ORNet's logits by up to 0.017 from the CPU's; the graphs
are captured with it off, so they replay full FP32 kernels (within 1e-4 of the CPU).

The bucket and piece logic is tested on the CPU (``tests/test_backends.py``), the graphs against
eager torch on a GPU (``tests/test_backends_cuda.py``).
"""

from __future__ import annotations

import contextlib
import threading
import torch
from torch import nn

from interorder_rt.backends.batching import Batching, pieces

WARMUP_ITERATIONS = 3


def on_engine_stream(device: torch.device, own: "torch.cuda.Stream | None") -> contextlib.AbstractContextManager:
    """Where an Engine queues its GPU work: the caller's stream when they set one, else ``own``.

    A caller that runs the Engine under ``torch.cuda.stream(s)`` gets its work on ``s``; otherwise
    it goes on the Engine's own non-default stream. A no-op off CUDA.
    """
    if device.type != "cuda" or own is None or torch.cuda.current_stream(device) != torch.cuda.default_stream(device):
        return contextlib.nullcontext()
    return torch.cuda.stream(own)


class CudaGraphNet:
    """``model`` on a CUDA ``device`` run through captured graphs: (B, C, S, S) in, float32 out on the device."""

    def __init__(self, model: nn.Module, item_shape: tuple[int, ...], device: torch.device, batching: Batching) -> None:
        if device.type != "cuda" or not torch.cuda.is_available():
            raise RuntimeError(f"the torch CUDA-graph backend needs a usable CUDA device, got {device}")
        self.device = device
        self.item_shape = tuple(item_shape)
        self.batching = batching
        self.model = model.eval().to(device, memory_format=torch.channels_last)
        self._pool = torch.cuda.graph_pool_handle()
        self._lock = threading.Lock()  # one set of static buffers: one call at a time
        with torch.inference_mode(), torch.cuda.device(device), full_fp32():
            # Largest first, so the smaller graphs reuse the pool memory the largest one took.
            self._graphs = {size: self._capture(size) for size in reversed(batching.buckets)}

    def _capture(self, size: int) -> tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor]:
        static_in = torch.zeros((size, *self.item_shape), device=self.device).contiguous(memory_format=torch.channels_last)
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_ITERATIONS):
                self.model(static_in)
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self._pool):
            static_out = self.model(static_in).float()
        return graph, static_in, static_out

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, torch.float32, non_blocking=True)
        out = []
        with self._lock, torch.cuda.device(self.device):
            for start, stop, size in pieces(len(x), self.batching.buckets):
                graph, static_in, static_out = self._graphs[size]
                static_in[: stop - start].copy_(x[start:stop])
                graph.replay()
                out.append(static_out[: stop - start].clone())
        if not out:
            with full_fp32():
                return self.model(x.contiguous(memory_format=torch.channels_last)).float()
        return out[0] if len(out) == 1 else torch.cat(out)


@contextlib.contextmanager
def full_fp32():
    """cuDNN's FP32 convolutions without TF32 while the block runs (torch's global flag, restored after)."""
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = before
