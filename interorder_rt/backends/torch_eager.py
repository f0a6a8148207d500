"""Eager torch on any device: the reference backend, and the torch backend on the CPU."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` intra-op threads, then restore the caller's setting."""
    before = torch.get_num_threads()
    if threads is not None and threads != before:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


class TorchNet:
    """``model`` in eval mode on ``device``, channels-last: (B, C, S, S) in, float32 out on ``device``.

    ``threads``: torch's intra-op threads during the call (None: the caller's setting).
    """

    def __init__(self, model: nn.Module, device: torch.device, threads: int | None = None) -> None:
        self.model = model.eval().to(device, memory_format=torch.channels_last)
        self.device = device
        self.threads = threads

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        with torch_threads(self.threads):
            return self.model(x.to(self.device, memory_format=torch.channels_last)).float()
