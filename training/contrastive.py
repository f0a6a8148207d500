"""Momentum contrast (MoCo) pieces, independent of the encoder they train.

- ``make_key_encoder``: E_k, a frozen copy of E_q;
- ``momentum_update``: theta_k <- m theta_k + (1 - m) theta_q (buffers such as batch-norm
  statistics are copied);
- ``KeyQueue``: a fixed-size FIFO of unit keys, saved with ``state_dict``;
- ``info_nce``: the InfoNCE loss of queries against their positive keys and the queue;
- ``gather_keys``: the keys of all processes under DistributedDataParallel.
"""

from __future__ import annotations

import copy

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn


def make_key_encoder(query_encoder: nn.Module) -> nn.Module:
    """A copy of ``query_encoder`` that takes no gradients (it moves only by momentum)."""
    key_encoder = copy.deepcopy(query_encoder)
    for p in key_encoder.parameters():
        p.requires_grad_(False)
    return key_encoder


@torch.no_grad()
def momentum_update(key_encoder: nn.Module, query_encoder: nn.Module, momentum: float) -> None:
    """theta_k <- m theta_k + (1 - m) theta_q for parameters; buffers are copied from E_q."""
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
    for pk, pq in zip(key_encoder.parameters(), query_encoder.parameters(), strict=True):
        pk.mul_(momentum).add_(pq.detach(), alpha=1.0 - momentum)
    for bk, bq in zip(key_encoder.buffers(), query_encoder.buffers(), strict=True):
        bk.copy_(bq)


class KeyQueue(nn.Module):
    """First-in first-out queue of ``size`` unit keys of dimension ``dim``.

    Starts with random unit vectors (as in MoCo); ``push`` overwrites the oldest entries.
    """

    def __init__(self, dim: int, size: int) -> None:
        super().__init__()
        if dim < 1 or size < 1:
            raise ValueError(f"queue dim and size must be >= 1, got {dim}, {size}")
        self.register_buffer("keys", F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer("pointer", torch.zeros((), dtype=torch.long))

    @property
    def size(self) -> int:
        return self.keys.shape[0]

    @torch.no_grad()
    def push(self, keys: torch.Tensor) -> None:
        """Enqueue (B, dim) keys, dropping the B oldest; B may exceed the queue size."""
        if keys.ndim != 2 or keys.shape[1] != self.keys.shape[1]:
            raise ValueError(f"keys must be (B, {self.keys.shape[1]}), got {tuple(keys.shape)}")
        keys = keys.detach()[-self.size :]
        slots = (self.pointer + torch.arange(keys.shape[0], device=keys.device)) % self.size
        self.keys[slots] = keys.to(self.keys.dtype)
        self.pointer.copy_((self.pointer + keys.shape[0]) % self.size)


def info_nce(queries: torch.Tensor, keys: torch.Tensor, queue: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE: classify each query's own key (positive) against every key in ``queue``.

    ``queries`` and ``keys`` are (B, D) unit vectors, row b of ``keys`` the positive of row b of
    ``queries``; ``queue`` is (K, D). Returns the mean loss over the batch.
    """
    if queries.shape != keys.shape:
        raise ValueError(f"queries and keys must have the same shape, got {tuple(queries.shape)}, {tuple(keys.shape)}")
    positive = (queries * keys.detach()).sum(dim=1, keepdim=True)
    negative = queries @ queue.detach().T
    logits = torch.cat([positive, negative], dim=1) / temperature
    return F.cross_entropy(logits, torch.zeros(len(queries), dtype=torch.long, device=queries.device))


@torch.no_grad()
def gather_keys(keys: torch.Tensor) -> torch.Tensor:
    """Keys from every process concatenated in rank order; ``keys`` itself outside DDP."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return keys
    parts = [torch.empty_like(keys) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, keys.contiguous())
    return torch.cat(parts)
