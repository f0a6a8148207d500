"""What a stream does with a frame it cannot process: raise, skip it, or pass the image through.

``Engine.stream(..., on_error=...)``:

- ``"raise"`` (the default): a :class:`FrameError` (a ``ValueError``) naming the frame, with the
  original error as its ``__cause__``; the stream ends.
- ``"skip"``: the frame yields nothing; a warning naming it is logged; the stream goes on.
- ``"pass"``: the frame yields a result carrying the input image unchanged and the error message
  (``TransferResult.error``); a warning is logged; the stream goes on. A frame whose image could
  not be read at all has nothing to pass through and is skipped.

A frame source that knows more about a frame than the engine does (the annotation file it came
from, or an error met before a :class:`Frame` could be made) yields :class:`FrameInput` items.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from interorder_rt.ops.order import OrderResult
from interorder_rt.result import StageTimings, TransferResult

ON_ERROR = ("raise", "skip", "pass")
log = logging.getLogger("interorder_rt.stream")


class FrameError(ValueError):
    """A frame of a stream could not be processed; names the frame and, when known, its file."""

    def __init__(self, index: int, where: str | None, cause: BaseException) -> None:
        self.index, self.where, self.cause = index, where, cause
        super().__init__(f"{frame_name(index, where)}: {type(cause).__name__}: {cause}")


@dataclass(frozen=True)
class FrameInput:
    """A stream item with its origin: a frame (a ``Frame`` or its fields as a dict) and ``where``
    it came from, or the ``error`` met while making it (``image``: the frame's image, if read)."""

    frame: Any = None
    where: str | None = None
    error: BaseException | None = None
    image: np.ndarray | None = None


def check_policy(on_error: str) -> str:
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
    return on_error


def frame_name(index: int, where: str | None) -> str:
    return f"frame {index}" + (f" ({where})" if where else "")


def passed_through(image: np.ndarray, message: str) -> TransferResult:
    """The result of a frame passed through unchanged: no instances, no people, the error said."""
    h, w = image.shape[:2]
    order = OrderResult(order=np.zeros((0, 0), np.int8), growth=np.zeros((0, 0), np.float32),
                        layering=np.zeros(0, np.int64), amodal=np.zeros((0, h, w), bool))
    return TransferResult(
        image=image, order=order, amodal=order.amodal, targets=(),
        person_rgb=np.zeros((0, h, w, 3), np.uint8), person_masks=np.zeros((0, h, w), bool),
        visible_person_masks=np.zeros((0, h, w), bool),
        timings=StageTimings(order=0.0, pose=0.0, completion=0.0, merge=0.0, total=0.0), error=message,
    )


def handle(on_error: str, error: FrameError, image: Any) -> TransferResult | None:
    """Apply the policy to a failed frame: raise, or the result to yield (None: yield nothing)."""
    if on_error == "raise":
        raise error from error.cause
    image = _readable_image(image)
    if on_error == "pass" and image is not None:
        log.warning("%s; passed through unchanged", error)
        return passed_through(image, str(error))
    log.warning("%s; skipped", error)
    return None


def _readable_image(image: Any) -> np.ndarray | None:
    """``image`` if it is a frame image that can be written out as it is, else None."""
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(image)
    return None
