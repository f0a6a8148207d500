"""A stream reuses a fill only while every input repeats byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt.compose import RepeatCache
from interorder_rt.compose.boxes import Part


def test_a_repeated_input_reuses_the_result_and_a_changed_pixel_recomputes():
    cache, calls = RepeatCache(), []
    image, mask = np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5), bool)

    def fill():
        calls.append(1)
        return image + 1

    first = cache.get("background", (image, mask, None), fill)
    assert cache.get("background", (image.copy(), mask.copy(), None), fill) is first and len(calls) == 1
    image[0, 0, 0] = 9  # the caller reuses its buffer: the cache kept its own copy of the inputs
    cache.get("background", (image, mask, None), fill)
    assert len(calls) == 2
    mask[1, 1] = True
    cache.get("background", (image, mask, None), fill)
    cache.get("background", (image, mask, np.zeros((4, 5), bool)), fill)
    assert len(calls) == 4 and cache.hits == 1


def test_results_handed_out_are_read_only():
    cache = RepeatCache()
    out = cache.get("instances", (np.zeros(3),), lambda: {0: np.zeros((2, 2, 3), np.uint8)})
    with pytest.raises(ValueError):
        out[0][0, 0, 0] = 1


def test_parts_handed_out_are_read_only_and_fresh_inputs_are_kept_as_they_are():
    cache, calls = RepeatCache(), []
    made, given = np.zeros((4, 5), bool), np.zeros((4, 5, 3), np.uint8)

    def fill():
        calls.append(1)
        return {0: Part((0, 0, 2, 2), np.zeros((2, 2, 3), np.uint8))}

    out = cache.get("instances", (made, given), fill, fresh=(0,))
    with pytest.raises(ValueError):
        out[0].rgb[0, 0, 0] = 1
    given[0, 0, 0] = 9  # a caller's buffer changed: it was copied, so this recomputes
    again = made.copy()
    cache.get("instances", (again, given), fill, fresh=(0,))
    assert len(calls) == 2
    again[0, 0] = True  # breaks the promise of a fresh input: the cache sees it through its reference
    cache.get("instances", (again.copy(), given), fill)
    assert len(calls) == 2 and cache.hits == 1
