"""COCO mask encodings (RLE and polygons) decoded through pycocotools, with checked input.

``pycocotools.mask.decode`` trusts its input: run lengths that do not add up to ``height * width``
leave pixels uninitialised or write past the buffer. So every RLE is checked here first, and a
bad one raises ``ValueError`` instead of yielding garbage or crashing the process.
"""

from __future__ import annotations

import warnings

import numpy as np
from pycocotools import mask as mask_utils

_FIRST_CHAR, _LAST_CHAR = 48, 48 + 63  # the compressed alphabet: 6 bits per char, offset by '0'


def _compressed_counts(counts: str) -> list[int]:
    """Run lengths of a compressed RLE string (the format of pycocotools' ``rleToString``)."""
    runs: list[int] = []
    value, shift = 0, 0
    for position, char in enumerate(counts):
        code = ord(char)
        if not _FIRST_CHAR <= code <= _LAST_CHAR:
            raise ValueError(f"character {char!r} at position {position} is outside the RLE alphabet")
        code -= _FIRST_CHAR
        value |= (code & 0x1F) << shift
        shift += 5
        if code & 0x20:  # continuation bit: the run goes on in the next char
            continue
        if code & 0x10:  # sign bit of the last chunk
            value -= 1 << shift
        if len(runs) > 2:  # runs after the third are stored as a delta to the run two before
            value += runs[-2]
        runs.append(value)
        value, shift = 0, 0
    if shift:
        raise ValueError("the string ends inside a run (last character has its continuation bit set)")
    return runs


def _as_size(value: object) -> int | None:
    """An image dimension given as int or numeric string; None when it is neither."""
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _check_runs(runs: list[int], height: int, width: int) -> None:
    if any(run < 0 or run >= 2**32 for run in runs):
        raise ValueError("run lengths must be non-negative 32-bit counts")
    total = sum(runs)
    if total != height * width:
        raise ValueError(f"run lengths add up to {total}, expected height * width = {height * width}")


def decode_rle(rle: object, height: int, width: int) -> np.ndarray:
    """Decode one COCO RLE ``{"size": [h, w], "counts": str | list[int]}`` to an (H, W) bool mask.

    ``counts`` is either the compressed string or the plain list of run lengths (column-major,
    starting with a run of zeros). Raises ``ValueError`` naming the problem when the size does
    not match ``(height, width)`` or the runs do not tile the image.
    """
    if not isinstance(rle, dict) or "counts" not in rle or "size" not in rle:
        raise ValueError("an RLE must be an object with 'counts' and 'size'")
    size = rle["size"]
    if not isinstance(size, list) or len(size) != 2 or [_as_size(s) for s in size] != [height, width]:
        raise ValueError(f"RLE size {size!r} does not match the image size [{height}, {width}]")
    counts = rle["counts"]
    if isinstance(counts, str):
        _check_runs(_compressed_counts(counts), height, width)
        encoded = {"size": [height, width], "counts": counts}
    elif isinstance(counts, list):
        if not all(isinstance(run, int) and not isinstance(run, bool) for run in counts):
            raise ValueError("RLE counts list must hold integers")
        _check_runs(counts, height, width)
        encoded = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    else:
        raise ValueError(f"RLE counts must be a string or a list of integers, got {type(counts).__name__}")
    return _decode(encoded)


def decode_polygons(polygons: list[list[float]], height: int, width: int) -> np.ndarray:
    """Rasterise polygons (flat x, y lists of at least 3 points each) to their (H, W) bool union."""
    if not polygons:
        return np.zeros((height, width), dtype=bool)
    return _decode(mask_utils.merge(mask_utils.frPyObjects(polygons, height, width)))


def _decode(rle: dict) -> np.ndarray:
    with warnings.catch_warnings():
        # pycocotools' Cython decoder trips NumPy 2's __array__ copy-keyword deprecation; harmless.
        warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
        return mask_utils.decode(rle).view(bool)  # 0/1 uint8 read as bool, no copy
