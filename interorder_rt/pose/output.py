"""What a pose transfer may return beyond ``(rgb, mask)``: a coverage alpha and a view report.

``PoseOutput`` *is* the ``(rgb, mask)`` pair of the ``PoseTransfer`` protocol (it unpacks as
one, so ``rgb, mask = pose(...)`` keeps working) with extra attributes. The merge reads ``alpha`` when a
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


class PoseOutput:
    """``(rgb, mask)`` plus ``alpha`` ((h, w) uint8 coverage, 0..255, or None) and ``views``.

    It unpacks as the pair (``rgb, mask = pose(...)``). Made by :meth:`in_box`, it holds only the
    box the person occupies (``box``, ``x0, y0, x1, y1``; nothing outside it is set) and makes a
    full-frame plane the first time one is read, so a pose stage's cost follows the person; a
    caller that works per box reads :attr:`crop` instead.
    """

    def __init__(self, rgb: np.ndarray, mask: np.ndarray, alpha: np.ndarray | None = None,
                 views: ViewReport | None = None) -> None:
        self._planes = {"rgb": rgb, "mask": mask, "alpha": alpha}
        self._size = tuple(mask.shape[:2])
        self._crop: tuple[np.ndarray, np.ndarray] | None = None
        self.box: tuple[int, int, int, int] | None = None
        self.views = views

    @classmethod
    def in_box(cls, size: tuple[int, int], box: tuple[int, int, int, int], rgb: np.ndarray, alpha: np.ndarray,
               views: ViewReport | None = None) -> "PoseOutput":
        """An output of an ``size = (h, w)`` frame that is empty outside ``box``, where it holds
        ``rgb`` ((y1 - y0, x1 - x0, 3) uint8) and the coverage ``alpha`` (mask: alpha > 0)."""
        out = cls.__new__(cls)
        out._planes, out._size, out._crop = {}, (int(size[0]), int(size[1])), (rgb, alpha)
        out.box, out.views = tuple(int(v) for v in box), views
        return out

    @property
    def crop(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(rgb, mask, alpha)`` within :attr:`box` (the whole frame when the output has no box)."""
        if self._crop is None:
            return self.rgb, self.mask, self.alpha
        rgb, alpha = self._crop
        return rgb, alpha > 0, alpha

    def _plane(self, name: str) -> np.ndarray | None:
        if name not in self._planes:
            rgb, mask, alpha = self.crop
            crop = {"rgb": rgb, "mask": mask, "alpha": alpha}[name]
            full = np.zeros(self._size + crop.shape[2:], crop.dtype)
            x0, y0, x1, y1 = self.box
            full[y0:y1, x0:x1] = crop
            self._planes[name] = full
        return self._planes[name]

    @property
    def rgb(self) -> np.ndarray:
        return self._plane("rgb")

    @property
    def mask(self) -> np.ndarray:
        return self._plane("mask")

    @property
    def alpha(self) -> np.ndarray | None:
        return self._plane("alpha")

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> np.ndarray:
        return (self.rgb, self.mask)[index]

    def __iter__(self):
        return iter((self.rgb, self.mask))


def alpha_of(result) -> np.ndarray | None:
    """The coverage alpha a pose transfer returned, or None (a plain ``(rgb, mask)`` tuple)."""
    return getattr(result, "alpha", None)
