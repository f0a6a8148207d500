"""Hypothesis properties for the annotation JSON loader and the ``Frame`` checks (issue 9).

Every input, however malformed (sizes, coordinates, types, RLE counts, nesting), must give a
``ValueError``/``TypeError`` with a message, or a correct result; any other exception fails the
property, and a crash or a runaway allocation kills the process. ``test_fuzz_inputs.py`` runs
``main()`` in a child process under a memory limit and a time limit.
"""

from __future__ import annotations

import json
import math
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils
from synthetic_pose import standing_pose

from interorder_rt.frame import Frame
from interorder_rt.io.annotations import load_annotation, parse_annotation

EXAMPLES = {"annotations": 250, "json_text": 60, "frames": 300}
# Deterministic, and no shrinking: a failure is reported at once, with the example as generated.
FUZZ = settings(deadline=None, database=None, derandomize=True, phases=(Phase.explicit, Phase.generate),
                suppress_health_check=list(HealthCheck))

EXTREMES = [0, -1, 1e8, -1e8, 1e308, -1e308, math.inf, -math.inf, math.nan, 2**31, 2**32, 2**63, 10**400, -0.0]
junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.lists(st.integers(-2, 3), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
BAD_SIDES = [0, -1, 2**15 + 1, 10**5, 10**12, 3.0, "16", True, None]


def chance(draw, p: float) -> bool:
    """True with probability ``p``: hypothesis' own numbers favour their bounds (and 0.0)."""
    return random.Random(draw(st.integers(0, 2**32 - 1))).random() < p


def mostly(draw, good, bad, share: float = 0.8):
    """``good`` drawn with probability ``share``, else ``bad``: valid input with a few faults."""
    return draw(good if chance(draw, share) else bad)


ACCEPTED = Counter()  # per property: how many examples gave a result (the rest were refused)


def refused_or(call, name: str):
    """``call()``'s result, or None when it raised a ValueError/TypeError that says something."""
    try:
        result = call()
    except (ValueError, TypeError) as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        return None
    ACCEPTED[name] += 1
    return result


def decode_runs(runs: list[int], h: int, w: int) -> np.ndarray:
    """The mask of COCO run lengths (zeros first, column-major), by NumPy."""
    values = np.arange(len(runs)) % 2 == 1
    return np.repeat(values, runs).reshape(w, h).T


def valid_side(side) -> bool:
    return type(side) is int and 0 < side <= 24


# ---- the annotation JSON loader -------------------------------------------------------------

@st.composite
def rles(draw, h, w):
    """A COCO RLE object, mostly valid; returns it and the mask it must decode to (None: unknown)."""
    good = valid_side(h) and valid_side(w)
    size = mostly(draw, st.just([h, w]), st.lists(st.one_of(st.sampled_from(EXTREMES), junk), max_size=3), 0.95)
    kind = "encoded" if chance(draw, 0.5) else "runs" if chance(draw, 0.7) else "text" if chance(draw, 0.5) else "junk"
    expected = None
    if kind == "encoded" and good:
        density = draw(st.sampled_from([0.0, 0.3, 1.0]))
        mask = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).random((h, w)) < density
        counts = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode("ascii")
        if chance(draw, 0.9):
            expected = mask
        else:  # one character changed, dropped or added
            cut = draw(st.integers(0, len(counts)))
            counts = counts[:cut] + draw(st.text(max_size=2)) + counts[cut + 1 :]
    elif kind == "runs":
        counts = draw(st.lists(st.integers(0, 30), max_size=8))
        if good and chance(draw, 0.9):
            counts.append(h * w - sum(counts))
        if chance(draw, 0.1):
            counts.insert(draw(st.integers(0, len(counts))), draw(st.sampled_from([-1, 2**32, 2**40, 1.5, True, "3"])))
        if good and all(type(c) is int and c >= 0 for c in counts) and sum(counts) == h * w:
            expected = decode_runs(counts, h, w)
    elif kind == "text":
        counts = draw(st.text(st.characters(min_codepoint=32, max_codepoint=130), max_size=40))
    else:
        counts = draw(junk)
    rle = {"size": size, "counts": counts}
    if chance(draw, 1 / 20):
        del rle[draw(st.sampled_from(["size", "counts"]))]
        expected = None
    return rle, (expected if size == [h, w] else None)


@st.composite
def polygons(draw, h, w):
    """A list of flat polygons, mostly inside the image, some with extreme or junk coordinates."""
    hi = np.array([w + 1, h + 1] if valid_side(h) and valid_side(w) else [40, 40], dtype=np.float64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    result = []
    for _ in range(draw(st.integers(1, 3))):
        coords = (rng.uniform(-1, 1, (draw(st.integers(3, 6)), 2)) * (hi + 1) / 2 + (hi - 1) / 2).ravel().tolist()
        if chance(draw, 0.07):
            coords[draw(st.integers(0, len(coords) - 1))] = draw(st.one_of(st.sampled_from(EXTREMES), junk))
        if chance(draw, 0.04):
            coords = coords[: draw(st.integers(0, len(coords)))]
        result.append(coords)
    return mostly(draw, st.just(result), st.one_of(st.just(result[0]), junk), 0.95)


@st.composite
def keypoints(draw, h, w):
    """COCO-18 pairs (null, [0, 0] and faults among them) or COCO-17 numbers, mostly valid."""
    hi = np.array([w, h] if valid_side(h) and valid_side(w) else [40, 40], dtype=np.float64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    points = rng.uniform(0, 1, (18, 2)) * hi
    if chance(draw, 0.5):
        coco17 = np.concatenate([points[:17], rng.integers(0, 3, (17, 1))], axis=1).ravel().tolist()
        return mostly(draw, st.just(coco17), st.one_of(st.just(coco17[:50]), junk), 0.9)
    pairs: list = points.tolist()
    for k in np.flatnonzero(rng.random(18) < 0.2):
        pairs[k] = draw(st.sampled_from([None, [0, 0]]))
    if chance(draw, 0.1):
        fault = st.one_of(st.lists(st.sampled_from(EXTREMES), min_size=2, max_size=2), junk)
        pairs[draw(st.integers(0, 17))] = draw(fault)
    return mostly(draw, st.just(pairs), st.one_of(st.just(pairs[: draw(st.integers(0, 20))]), junk), 0.9)


@st.composite
def annotations(draw):
    """An annotation object (some fields broken, dropped or junk) and what each mask must be."""
    h, w = (mostly(draw, st.integers(1, 24), st.sampled_from(BAD_SIDES), 0.95) for _ in range(2))
    instances, expected = [], []
    with_ids = chance(draw, 0.3)
    for k in range(mostly(draw, st.integers(1, 3), st.just(0), 0.97)):
        inst = {"category": "person" if k == 0 else mostly(draw, st.sampled_from(["person", "object"]), junk, 0.9)}
        if chance(draw, 0.5):
            inst["segmentation"], mask = draw(rles(h, w))
        else:
            inst["segmentation"], mask = draw(polygons(h, w)), None
        if k == 0 or chance(draw, 1 / 4):
            inst["keypoints"] = draw(keypoints(h, w))
        if with_ids:
            inst["id"] = mostly(draw, st.just(10 + k), st.one_of(st.integers(0, 12), junk), 0.9)
        instances.append(mostly(draw, st.just(inst), junk, 0.97))
        expected.append(mask)
    obj = {"height": h, "width": w, "instances": instances}
    if chance(draw, 0.7):
        n = max(len(instances), 1)
        obj["person"] = mostly(draw, st.one_of(st.integers(0, n - 1), st.lists(st.integers(0, n - 1), max_size=3)),
                               st.one_of(st.integers(-2, 5), junk), 0.9)
    if chance(draw, 1 / 20):
        del obj[draw(st.sampled_from(["height", "width", "instances"]))]
    return obj, expected


def check_annotation(ann, obj: dict, expected: list) -> None:
    n = len(obj["instances"])
    assert ann.masks.shape == (n, obj["height"], obj["width"]) and ann.masks.dtype == bool
    assert len(ann.categories) == len(ann.keypoints) == n
    assert ann.person and all(0 <= p < n and ann.keypoints[p] is not None for p in ann.person)
    for k, (inst, mask) in enumerate(zip(obj["instances"], expected)):
        if mask is not None:
            np.testing.assert_array_equal(ann.masks[k], mask)
        if isinstance(inst["segmentation"], list):  # a rasterised polygon stays inside its box
            coords = np.concatenate([np.asarray(p, dtype=np.float64) for p in inst["segmentation"]]).reshape(-1, 2)
            ys, xs = np.nonzero(ann.masks[k])
            if xs.size:
                assert coords[:, 0].min() - 1 <= xs.min() and xs.max() <= coords[:, 0].max() + 1
                assert coords[:, 1].min() - 1 <= ys.min() and ys.max() <= coords[:, 1].max() + 1
        kp = ann.keypoints[k]
        if kp is not None:
            assert kp.shape == (18, 2) and kp.dtype == np.float32 and not np.isinf(kp).any()
            assert not ((kp[:, 0] == 0) & (kp[:, 1] == 0)).any()  # (0, 0) is read as missing


@given(case=annotations())
def fuzz_annotations(case) -> None:
    obj, expected = case
    ann = refused_or(lambda: parse_annotation(json.loads(json.dumps(obj)), where="fuzz"), "annotations")
    if ann is not None:
        check_annotation(ann, obj, expected)


@given(text=st.one_of(
    st.text(max_size=60),
    st.integers(1, 200_000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(1, 50_000).map(lambda digits: '{"height": 1' + "0" * digits + "}"),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
))
def fuzz_json_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        assert refused_or(lambda: load_annotation(path), "json_text") is None or text.strip().startswith("{")


# ---- the Frame checks ------------------------------------------------------------------------

@st.composite
def frames(draw):
    """A Frame, mostly valid, with faults in its image, masks, targets, keypoints or ids."""
    h, w, n = draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(0, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    masks = rng.random((n, h, w)) < 0.5
    masks[:, rng.integers(h), rng.integers(w)] = True  # none empty
    image = mostly(draw, st.just(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)), st.sampled_from([
        np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.uint8), np.zeros((h, w, 4), np.uint8),
        np.zeros((0, w, 3), np.uint8), None, "image", [[1, 2], [3]],
    ]), 0.9)
    rle = [mask_utils.encode(np.asfortranarray(m.astype(np.uint8))) for m in masks]
    mask_input = mostly(draw, st.sampled_from([
        masks, masks.astype(np.uint8), list(masks), rle, [{**r, "counts": r["counts"].decode()} for r in rle],
        masks.tolist() if n else masks,
    ]), st.sampled_from([
        masks.astype(np.uint8) * 2, masks.astype(np.float32), masks[:, :, :1], [*rle[:1], *masks[1:]],
        [m[: max(h - 1, 1)] for m in masks], [[[1, 0]], [[1]]], np.zeros((n, h, w), bool), None, 3, "masks",
        [{"size": [h, w], "counts": "0" * 9}], [{"size": [h, w], "counts": [h * w + 1]}],
    ]), 0.85)
    chosen = sorted(rng.permutation(n)[: draw(st.integers(0, n))].tolist())
    target = mostly(draw, st.sampled_from([chosen, tuple(chosen), chosen[0] if chosen else [], np.array(chosen)]),
                    st.one_of(st.integers(-1, n), st.lists(st.integers(-1, n), max_size=3),
                              st.sampled_from([None, 0.0, True, "0", {0: 1}, [0, 0]])), 0.85)
    fitting = standing_pose(w / 2, 0.5, 0.9 * h, width=0.9 * w)  # fills the frame
    poses = []
    for _ in chosen:
        pose = fitting.copy()
        if chance(draw, 1 / 3):  # a fault in one point: missing, (0, 0) or out of range
            faults = [[0, 0], [np.nan, np.nan], [np.inf, 0], [1e30, 1], [-5e3, 2]]
            pose[rng.integers(18)] = draw(st.sampled_from(faults))
        poses.append(pose)
    kp = mostly(draw, st.sampled_from([poses, [p.tolist() for p in poses], poses[0] if len(poses) == 1 else poses]),
                st.sampled_from([poses[:-1], [*poses, fitting], [p[:17] for p in poses], None, "kp",
                                 [np.full((18, 2), 3.0)] * len(poses), [p.astype(np.float64) * 1e40 for p in poses],
                                 [np.zeros((18, 2))] * len(poses)]), 0.85)
    ids = mostly(draw, st.sampled_from([None, rng.permutation(n).tolist(), list(np.arange(n) * 7)]),
                 st.one_of(st.lists(st.integers(-3, 3), max_size=4),
                           st.sampled_from([[0.5] * n, 7, "ids", [True] * n])),
                 0.85)
    return Frame(image=image, masks=mask_input, target=target, keypoints=kp, instance_ids=ids), masks


@given(case=frames())
def fuzz_frames(case) -> None:
    frame, masks = case
    checked = refused_or(frame.checked, "frames")
    if checked is None:
        return
    image = np.asarray(frame.image)
    assert checked.image.dtype == np.uint8 and checked.image.shape == image.shape
    np.testing.assert_array_equal(checked.image, image)
    assert checked.masks.dtype == bool and checked.masks.shape[1:] == image.shape[:2]
    if checked.masks.shape == masks.shape:
        np.testing.assert_array_equal(checked.masks, masks)
    n = checked.masks.shape[0]
    assert all(type(t) is int and 0 <= t < n for t in checked.target)
    assert len(set(checked.target)) == len(checked.target)
    assert len(checked.keypoints) == len(checked.target)
    assert all(kp.shape == (18, 2) and kp.dtype == np.float32 and not np.isinf(kp).any() for kp in checked.keypoints)
    assert len(checked.instance_ids) == n and all(type(i) is int for i in checked.instance_ids)


def main() -> None:
    for prop in (fuzz_annotations, fuzz_json_text, fuzz_frames):
        name = prop.__name__.removeprefix("fuzz_")
        settings(FUZZ, max_examples=EXAMPLES[name])(prop)()
        print(f"{name}: {EXAMPLES[name]} examples passed, {ACCEPTED[name]} of them accepted", flush=True)


if __name__ == "__main__":
    sys.exit(main())
