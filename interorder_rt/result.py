"""What ``Engine.run`` returns: the merged frame and everything used to make it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interorder_rt.ops.order import OrderResult

STAGES = ("order", "pose", "completion", "merge", "total")


@dataclass(frozen=True)
class StageTimings:
    """Wall-clock milliseconds spent in each stage of one ``Engine.run``."""

    order: float
    pose: float
    completion: float
    merge: float
    total: float

    def as_dict(self) -> dict[str, float]:
        return {stage: getattr(self, stage) for stage in STAGES}


@dataclass
class TransferResult:
    """One merged frame.

    ``targets[k]`` is the replaced instance whose slot the k-th transferred person took;
    ``person_rgb[k]``/``person_masks[k]`` are that person as the pose stage rendered it (full
    silhouette, frame coordinates), ``visible_person_masks[k]`` the part left visible in ``image``.
    ``reassigned`` (N, H, W) marks the pixels each input mask shared with an instance in front of
    it and gave up to that instance (when no masks overlap: all False, a read-only view that
    holds no frame-sized array). In a stream, ``amodal`` may be read-only: the stream keeps the
    recovered masks to reuse while the instances stand still (``compose.OrderReuse``).
    """

    image: np.ndarray  # (H, W, 3) uint8, the merged frame
    order: OrderResult  # order matrix, evidence and layering used for the merge
    amodal: np.ndarray  # (N, H, W) bool, each instance's amodal mask
    targets: tuple[int, ...]
    person_rgb: np.ndarray  # (K, H, W, 3) uint8
    person_masks: np.ndarray  # (K, H, W) bool
    visible_person_masks: np.ndarray  # (K, H, W) bool
    timings: StageTimings
    instance_ids: tuple[int, ...] = ()  # each instance's id in a stream (given or tracked)
    error: str | None = None  # a stream's frame passed through unchanged: why (interorder_rt.bad_frames)
    reassigned: np.ndarray | None = None  # (N, H, W) bool

    @property
    def person_mask(self) -> np.ndarray:
        """(H, W) bool: the union of the transferred people's silhouettes."""
        return self.person_masks.any(axis=0)
