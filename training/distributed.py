"""One process or many under ``torchrun``: process group set-up and the few collectives training needs."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    """Where this process stands: rank, world size, and the device it trains on."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


DEVICES = ("cpu", "cuda")


def check_device(device: str) -> None:
    """ValueError unless ``device`` is one of ``DEVICES``."""
    if device not in DEVICES:
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")


def init(device: str | None = None) -> Context:
    """Join the process group when launched by ``torchrun`` (gloo on CPU, nccl on GPU).

    ``device``: "cpu", "cuda", or None for CUDA when available. Each process takes the GPU of its
    local rank.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    kind = device or ("cuda" if torch.cuda.is_available() else "cpu")
    check_device(kind)
    if kind == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"device 'cuda' asked for, but this torch sees {torch.cuda.device_count()} CUDA device(s)"
                f"{'' if torch.backends.cuda.is_built() else ' (it was built without CUDA)'}: use --device cpu"
            )
        torch.cuda.set_device(local_rank)
    target = torch.device(kind, local_rank) if kind == "cuda" else torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if kind == "cuda" else "gloo")
    return Context(rank=rank, world_size=world_size, device=target)


def shutdown() -> None:
    """Leave the process group, if any."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def gather_objects(obj: object, context: Context) -> list:
    """``obj`` of every process, in rank order (a one-item list outside DDP)."""
    if not context.distributed:
        return [obj]
    out: list = [None] * context.world_size
    dist.all_gather_object(out, obj)
    return out


def any_process(flag: bool, context: Context) -> bool:
    """True in every process when ``flag`` is true in any (no-op outside DDP)."""
    if not context.distributed:
        return flag
    t = torch.tensor([float(flag)], device=context.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier(context: Context) -> None:
    """Wait for every process (no-op outside DDP)."""
    if context.distributed:
        dist.barrier()
