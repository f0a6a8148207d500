"""Property test: every MaskSet op equals the NumPy reference on arbitrary small inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interorder_rt.ops import MaskSet, growth_counts
from interorder_rt.ops import reference as ref


@st.composite
def mask_stacks(draw) -> np.ndarray:
    n = draw(st.integers(0, 7))
    h = draw(st.integers(0, 24))
    w = draw(st.sampled_from([0, 1, 2, 5, 8, 31, 63, 64, 65, 100, 127, 128, 129]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    density = draw(st.sampled_from([0.0, 0.02, 0.2, 0.6, 1.0]))
    masks = rng.random((n, h, w)) < density
    if draw(st.booleans()) and h and w:  # blocky masks: runs and holes, not just speckle
        y0, x0 = rng.integers(0, h, n), rng.integers(0, w, n)
        for k in range(n):
            masks[k, y0[k] : y0[k] + rng.integers(1, h + 1), x0[k] : x0[k] + rng.integers(1, w + 1)] ^= True
    if draw(st.booleans()):
        return masks.astype(np.uint8) * np.uint8(draw(st.sampled_from([1, 2, 255])))
    return masks


coords = st.floats(-40, 170, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(masks=mask_stacks(), data=st.data())
def test_ops_equal_reference(masks, data):
    ms = MaskSet(masks)
    flags = masks.astype(bool)
    n, h, w = masks.shape
    np.testing.assert_array_equal(ms.to_numpy(), flags)
    np.testing.assert_array_equal(ms.areas(), ref.areas(flags))
    np.testing.assert_array_equal(ms.boxes(), ref.boxes(flags))
    np.testing.assert_array_equal(ms.intersection_matrix(), ref.intersection_matrix(flags))
    np.testing.assert_array_equal(ms.bordering_matrix(), ref.bordering_matrix(flags))
    np.testing.assert_array_equal(ms.convex_hulls(), ref.convex_hull_masks(flags))
    if n == 0:
        return
    indices = st.lists(st.integers(-n, n - 1), max_size=5)
    a, b = data.draw(indices), data.draw(indices)
    np.testing.assert_array_equal(ms.union(a), ref.union(flags, a))
    np.testing.assert_array_equal(ms.intersection(a), ref.intersection(flags, a))
    np.testing.assert_array_equal(ms.difference(a, b), ref.difference(flags, a, b))
    crops = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.tuples(coords, coords, coords, coords)), max_size=4))
    size = data.draw(st.integers(0, 12))
    index = [k for k, _ in crops]
    boxes = np.array([box for _, box in crops], np.float64).reshape(-1, 4)
    np.testing.assert_array_equal(ms.crops(index, boxes, size), ref.crop_resize(flags, index, boxes, size))
    np.testing.assert_array_equal(growth_counts(masks, masks[::-1], masks[:, ::-1]),
                                  ref.growth_counts(flags, flags[::-1], flags[:, ::-1]))
