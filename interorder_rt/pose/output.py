"""What a pose transfer may return beyond ``(rgb, mask)``: a coverage alpha and a view report.

``PoseOutput`` *is* the ``(rgb, mask)`` pair of the ``PoseTransfer`` protocol (a 2-tuple, so
``rgb, mask = pose(...)`` keeps working) with extra attributes. The merge reads ``alpha`` when a
pose transfer provides it (``alpha_of``); a plain tuple from a third-party transfer has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ViewReport:
    """The views of the source and the target (``pose.views``), and what was done when they differ."""

    source: str
    target: str
    note: str = ""  # empty when the views agree well enough

    @property
    def agree(self) -> bool:
        return not self.note


class PoseOutput(tuple):
    """``(rgb, mask)`` plus ``alpha`` ((h, w) uint8 coverage, 0..255, or None) and ``views``."""

    alpha: np.ndarray | None
    views: ViewReport | None

    def __new__(cls, rgb: np.ndarray, mask: np.ndarray, alpha: np.ndarray | None = None,
                views: ViewReport | None = None) -> "PoseOutput":
        out = super().__new__(cls, (rgb, mask))
        out.alpha, out.views = alpha, views
        return out

    @property
    def rgb(self) -> np.ndarray:
        return self[0]

    @property
    def mask(self) -> np.ndarray:
        return self[1]


def alpha_of(result) -> np.ndarray | None:
    """The coverage alpha a pose transfer returned, or None (a plain ``(rgb, mask)`` tuple)."""
    return getattr(result, "alpha", None)
