"""COCO mask encodings (RLE and polygons) decoded through pycocotools, with checked input.

pycocotools trusts its input: run lengths that do not add up to ``height * width`` leave pixels
uninitialised or write past the buffer, and a polygon is rasterised by walking its edges at five
times their length, so one vertex at 1e8 (or inf, NaN) exhausts memory or crashes the process.
So the image size, every RLE and every polygon are checked here first, and a bad one raises
``ValueError`` naming the problem instead of yielding garbage or crashing.
"""

from __future__ import annotations

import warnings

import numpy as np
from pycocotools import mask as mask_utils

_FIRST_CHAR, _LAST_CHAR = 48, 48 + 63  # the compressed alphabet: 6 bits per char, offset by '0'
_MAX_RUN_BITS = 64  # pycocotools reads a run into a C long
MAX_SIDE = 1 << 15  # the largest image height or width decoded (32768 pixels)
POLYGON_TOLERANCE = 1.0  # pixels a polygon vertex may lie outside [0, width] x [0, height] (loose masks)
# pycocotools' polygon rasteriser allocates 40 bytes per pixel of outline: the outlines of one
# mask may add up to this many times (height + width), far more than any real outline.
MAX_OUTLINE = 64


def check_image_size(height: object, width: object) -> tuple[int, int]:
    """``(height, width)`` as ints in ``[1, MAX_SIDE]``, or a ValueError: the size is checked before
    anything of that size is allocated."""
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"image {name} must be an integer, got {value!r}")
        if not 1 <= value <= MAX_SIDE:
            raise ValueError(f"image {name} must lie in [1, {MAX_SIDE}], got {value}")
    return int(height), int(width)


def check_polygon(coords: object, height: int, width: int) -> np.ndarray:
    """One flat polygon ``[x1, y1, x2, y2, ...]`` as float64, or a ValueError naming the problem.

    The coordinates must be finite x, y pairs inside the ``width`` x ``height`` image, give or take
    ``POLYGON_TOLERANCE`` pixels. Fewer than 3 points are left to the caller (COCOA drops them).
    """
    try:
        array = np.asarray(coords, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("holds a non-numeric coordinate") from None
    if array.ndim != 1 or array.size % 2 or not np.isfinite(array).all():
        raise ValueError(f"needs finite x, y pairs, got {array.size} numbers")
    if array.size:
        xs, ys = array[0::2], array[1::2]
        low, high_x, high_y = -POLYGON_TOLERANCE, width + POLYGON_TOLERANCE, height + POLYGON_TOLERANCE
        if xs.min() < low or ys.min() < low or xs.max() > high_x or ys.max() > high_y:
            raise ValueError(
                f"leaves the {width}x{height} image "
                f"(x in [{xs.min():g}, {xs.max():g}], y in [{ys.min():g}, {ys.max():g}])"
            )
    return array


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
            if shift > _MAX_RUN_BITS:
                raise ValueError(f"the run ending after position {position} has more than 64 bits")
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
    except (TypeError, ValueError, OverflowError):
        return None


def _check_runs(runs: list[int], height: int, width: int) -> None:
    if any(run < 0 or run >= 2**32 for run in runs):
        raise ValueError("run lengths must be non-negative 32-bit counts")
    total = sum(runs)
    if total != height * width:
        raise ValueError(f"run lengths add up to {total}, expected height * width = {height * width}")


def decode_rle(rle: object, height: int, width: int) -> np.ndarray:
    """Decode one COCO RLE ``{"size": [h, w], "counts": str | list[int]}`` to an (H, W) bool mask.

    ``counts`` is either the compressed string (``str``, or ``bytes`` as ``pycocotools.mask.encode``
    returns it) or the plain list of run lengths (column-major, starting with a run of zeros).
    Raises ``ValueError`` naming the problem when the size does not match ``(height, width)`` or
    the runs do not tile the image.
    """
    height, width = check_image_size(height, width)
    if not isinstance(rle, dict) or "counts" not in rle or "size" not in rle:
        raise ValueError("an RLE must be an object with 'counts' and 'size'")
    size = rle["size"]
    if not isinstance(size, list) or len(size) != 2 or [_as_size(s) for s in size] != [height, width]:
        raise ValueError(f"RLE size {size!r} does not match the image size [{height}, {width}]")
    counts = rle["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("latin-1")  # a non-ASCII byte then fails the alphabet check
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
    """Rasterise polygons (flat x, y lists of at least 3 points each) to their (H, W) bool union.

    Each polygon passes ``check_polygon`` first; a ValueError names the polygon at fault.
    """
    height, width = check_image_size(height, width)
    if not polygons:
        return np.zeros((height, width), dtype=bool)
    checked = []
    for k, polygon in enumerate(polygons):
        try:
            coords = check_polygon(polygon, height, width)
        except ValueError as exc:
            raise ValueError(f"polygon {k} {exc}") from None
        if coords.size < 6:
            raise ValueError(f"polygon {k} needs at least 3 x, y pairs, got {coords.size // 2}")
        checked.append(coords)
    outline = sum(_outline_length(coords) for coords in checked)
    if outline > MAX_OUTLINE * (height + width):
        raise ValueError(
            f"the polygons' outlines add up to {outline:.0f} pixels, more than {MAX_OUTLINE} x (height + width) "
            f"= {MAX_OUTLINE * (height + width)} for a {width}x{height} image"
        )
    return _decode(mask_utils.merge(mask_utils.frPyObjects([c.tolist() for c in checked], height, width)))


def _outline_length(coords: np.ndarray) -> float:
    """The closed polygon's length in the rasteriser's steps: per edge, its longer axis."""
    xs, ys = coords[0::2], coords[1::2]
    return float(np.maximum(np.abs(np.roll(xs, -1) - xs), np.abs(np.roll(ys, -1) - ys)).sum())


def _decode(rle: dict) -> np.ndarray:
    with warnings.catch_warnings():
        # pycocotools' Cython decoder trips NumPy 2's __array__ copy-keyword deprecation; harmless.
        warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
        return mask_utils.decode(rle).view(bool)  # 0/1 uint8 read as bool, no copy
