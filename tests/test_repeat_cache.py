"""A stream reuses a fill only while every input repeats byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt.compose import RepeatCache


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
