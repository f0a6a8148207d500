"""Batch sizes on the GPU backends: buckets for captured CUDA graphs and the TensorRT profile.

A captured CUDA graph replays fixed shapes, so a batch of B crops runs padded up to the smallest
bucket that holds it; a batch above the largest bucket (the crop cap) runs as pieces of the cap,
then the rest in its bucket. The TensorRT optimization profile spans 1 to the cap, tuned for the
typical batch: ORNet's is 2P crops for P bordering pairs (16 for the 8-pair frames of the
benchmarks), MNet's one crop per revealed instance plus the background.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


def check_buckets(buckets: Sequence[int]) -> tuple[int, ...]:
    """The buckets as a sorted tuple of distinct positive ints; ValueError otherwise."""
    out = tuple(sorted({int(b) for b in buckets}))
    if not out or out[0] < 1 or len(out) != len(buckets):
        raise ValueError(f"buckets must be distinct positive batch sizes, got {list(buckets)}")
    return out


def bucket_for(batch: int, buckets: Sequence[int]) -> int:
    """The smallest bucket holding ``batch`` items; ValueError when none does."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    for bucket in buckets:
        if bucket >= batch:
            return bucket
    raise ValueError(f"batch {batch} is above the largest bucket {buckets[-1]}")


def pieces(batch: int, buckets: Sequence[int]) -> list[tuple[int, int, int]]:
    """``(start, stop, bucket)`` pieces covering ``range(batch)``: full pieces of the largest
    bucket, then the rest padded to its bucket. Empty for an empty batch."""
    cap = buckets[-1]
    out = [(start, start + cap, cap) for start in range(0, batch - batch % cap, cap)]
    rest = batch % cap
    if rest:
        out.append((batch - rest, batch, bucket_for(rest, buckets)))
    return out


@dataclass(frozen=True)
class Profile:
    """A TensorRT optimization profile of the batch axis: ``min <= opt <= max``."""

    min: int
    opt: int
    max: int

    def __post_init__(self) -> None:
        if not 1 <= self.min <= self.opt <= self.max:
            raise ValueError(f"a profile needs 1 <= min <= opt <= max, got {self.min}, {self.opt}, {self.max}")

    def shapes(self, item_shape: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """The (min, opt, max) input shapes for items of ``item_shape``."""
        item = tuple(int(s) for s in item_shape)
        return (self.min, *item), (self.opt, *item), (self.max, *item)


@dataclass(frozen=True)
class Batching:
    """A net's CUDA-graph buckets and its typical batch; the largest bucket is its crop cap."""

    buckets: tuple[int, ...]
    typical: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "buckets", check_buckets(self.buckets))
        if not 1 <= self.typical <= self.cap:
            raise ValueError(f"typical batch {self.typical} must lie in [1, {self.cap}]")

    @property
    def cap(self) -> int:
        return self.buckets[-1]

    def profile(self) -> Profile:
        return Profile(1, self.typical, self.cap)


BATCHING = {
    "ornet": Batching(buckets=(8, 16, 32, 64), typical=16),
    "mnet": Batching(buckets=(2, 4, 8, 16), typical=2),
}
