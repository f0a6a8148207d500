"""``Engine.stream``'s bad-frame policy: raise, skip or pass a frame through, naming the frame."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from interorder_rt.bad_frames import FrameError, FrameInput
from interorder_rt.engine import Engine
from interorder_rt.synth import make_transfer_pair

SIZE = 96


@pytest.fixture(scope="module")
def engine_and_frame():
    pair = make_transfer_pair(3, setting="objects", height=SIZE, width=SIZE)
    engine = Engine()
    src, x = pair.source, pair.source_index
    engine.set_source(src.image, mask=src.modal[x], keypoints=src.instances[x].keypoints)
    ref, y = pair.reference, pair.reference_index
    return engine, dict(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints)


def frames_with_a_bad_middle(good: dict) -> list[dict]:
    bad = {**good, "masks": good["masks"][:, :-1]}  # masks a row short of the image
    return [good, bad, good]


def test_raise_names_the_frame_and_keeps_the_cause(engine_and_frame):
    engine, good = engine_and_frame
    results = engine.stream(frames_with_a_bad_middle(good))
    assert next(results).error is None
    with pytest.raises(FrameError, match=r"frame 1: ValueError: masks are 95x96") as info:
        next(results)
    assert info.value.index == 1 and isinstance(info.value.__cause__, ValueError)


def test_skip_drops_the_frame_logs_it_and_goes_on(engine_and_frame, caplog):
    engine, good = engine_and_frame
    with caplog.at_level(logging.WARNING, logger="interorder_rt.stream"):
        results = list(engine.stream(frames_with_a_bad_middle(good), on_error="skip"))
    assert len(results) == 2 and all(r.error is None for r in results)
    assert "frame 1: ValueError" in caplog.text and "skipped" in caplog.text


def test_pass_yields_the_input_image_and_the_error(engine_and_frame):
    engine, good = engine_and_frame
    results = list(engine.stream(frames_with_a_bad_middle(good), on_error="pass"))
    assert len(results) == 3
    passed = results[1]
    np.testing.assert_array_equal(passed.image, good["image"])
    assert passed.targets == () and "frame 1" in passed.error
    assert results[2].error is None and results[2].targets == (good["target"],)


def test_errors_name_the_annotation_file_when_the_source_knows_it(engine_and_frame):
    engine, good = engine_and_frame
    items = [FrameInput(good, where="ann/000000.json"),
             FrameInput(where="ann/000001.json", error=ValueError("instance 2: bad RLE"), image=good["image"])]
    results = list(engine.stream(items, on_error="pass"))
    assert results[1].error == "frame 1 (ann/000001.json): ValueError: instance 2: bad RLE"
    with pytest.raises(FrameError, match=r"frame 1 \(ann/000001.json\): ValueError: instance 2"):
        list(engine.stream(items))


def test_a_frame_without_a_readable_image_cannot_be_passed_and_is_skipped(engine_and_frame):
    engine, good = engine_and_frame
    items = [good, {**good, "image": good["image"].astype(np.float32)}]
    assert len(list(engine.stream(items, on_error="pass"))) == 1


def test_a_broken_frame_source_ends_the_stream_naming_the_frame(engine_and_frame):
    engine, good = engine_and_frame

    def source():
        yield good
        raise OSError("camera unplugged")

    with pytest.raises(FrameError, match="frame 1: OSError: camera unplugged"):
        list(engine.stream(source(), on_error="skip"))


def test_unknown_policy_is_refused(engine_and_frame):
    engine, good = engine_and_frame
    with pytest.raises(ValueError, match="on_error must be one of raise, skip, pass"):
        next(engine.stream([good], on_error="ignore"))


def test_a_stream_without_ids_tracks_its_instances_through_a_shuffle(engine_and_frame):
    engine, good = engine_and_frame
    n = good["masks"].shape[0]
    rng = np.random.default_rng(1)
    perms = [np.arange(n)] + [rng.permutation(n) for _ in range(3)]
    frames = [{**good, "masks": good["masks"][p], "target": int(np.flatnonzero(p == good["target"])[0])}
              for p in perms]
    results = list(engine.stream(frames))
    for p, result in zip(perms, results):
        ids_by_original = dict(zip(p.tolist(), result.instance_ids))
        assert ids_by_original == dict(zip(range(n), results[0].instance_ids))
