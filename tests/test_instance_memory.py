"""A still-camera stream's memory of each instance: seen pixels and completions come back while it stands still."""

from __future__ import annotations

import numpy as np

from interorder_rt.compose import InstanceMemory


def scene(seed: int = 0, h: int = 40, w: int = 60) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def rect(y0: int, y1: int, x0: int, x1: int, h: int = 40, w: int = 60) -> np.ndarray:
    mask = np.zeros((h, w), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_a_revealed_part_seen_earlier_comes_back_exactly():
    image, table = scene(), rect(10, 30, 10, 50)
    memory = InstanceMemory()
    memory.update(image, table[None], ids=[7])  # the table in full, nobody in front yet
    hidden = rect(10, 30, 20, 30)  # later a person stands there
    memory.update(image, (table & ~hidden)[None], ids=[7])
    frame = image.copy()
    frame[hidden] = 0
    out = memory.recall(7, hidden)
    np.testing.assert_array_equal(out[hidden], image[hidden])
    np.testing.assert_array_equal(out[table & ~hidden], image[table & ~hidden])
    assert memory.recall(8, hidden) is None  # another id knows nothing


def test_a_completion_is_kept_for_a_still_instance_and_dropped_when_it_moves():
    image, table, hidden = scene(1), rect(10, 30, 10, 50), rect(10, 30, 20, 30)
    memory = InstanceMemory()
    visible = table & ~hidden
    memory.update(image, visible[None], ids=[3])
    assert memory.recall(3, hidden) is None  # never seen: it must be completed
    completed = image.copy()
    completed[hidden] = 99
    memory.remember(3, completed, hidden)
    noisy = np.clip(image.astype(int) + 2, 0, 255).astype(np.uint8)  # sensor noise: still the same table
    memory.update(noisy, visible[None], ids=[3])
    layer = memory.recall(3, hidden)
    assert (layer[hidden] == 99).all() and np.array_equal(layer[visible], noisy[visible])
    moved = np.roll(visible, 15, axis=1)
    memory.update(noisy, moved[None], ids=[3])
    assert memory.recall(3, np.roll(hidden, 15, axis=1)) is None


def test_an_instance_whose_colours_change_starts_afresh():
    image, table, hidden = scene(2), rect(10, 30, 10, 50), rect(10, 30, 20, 30)
    memory = InstanceMemory()
    memory.update(image, table[None], ids=[1])
    memory.update(255 - image, (table & ~hidden)[None], ids=[1])  # same place, another object
    assert memory.recall(1, hidden) is None


def test_engine_stream_completes_a_still_instance_once():
    from interorder_rt.engine import Engine
    from interorder_rt.synth import make_transfer_pair

    pair = make_transfer_pair(31, setting="persons", height=144, width=256)
    ref, y = pair.reference, pair.reference_index
    engine = Engine()
    src, x = pair.source, pair.source_index
    engine.set_source(src.image, keypoints=src.instances[x].keypoints, masks=src.modal, index=x)
    calls = []
    complete_many = engine.completion.complete_many
    engine.completion.complete_many = lambda *a: calls.append(1) or complete_many(*a)
    rng = np.random.default_rng(0)
    frames = [dict(image=np.clip(ref.image + rng.integers(-2, 3, ref.image.shape), 0, 255).astype(np.uint8),
                   masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints,
                   instance_ids=[i.instance_id for i in ref.instances]) for _ in range(3)]
    first = engine.run(**frames[0])
    needs = bool(calls)
    calls.clear()
    results = list(engine.stream(frames))
    assert len(calls) == (1 if needs else 0)  # the first frame only: the others recall it
    assert all(r.error is None and r.image.shape == first.image.shape for r in results)


def test_a_box_holding_the_revealed_pixels_finds_what_the_whole_frame_finds():
    image, table, hidden = scene(2), rect(10, 30, 10, 50), rect(10, 30, 20, 30)
    layers = []
    for within in (None, (15, 5, 45, 35)):
        memory = InstanceMemory()
        memory.update(image, (table & ~hidden)[None], ids=[4])
        assert memory.recall(4, hidden, within=within) is None
        completed = image.copy()
        completed[hidden] = 42
        memory.remember(4, completed, hidden, within=within)
        layers.append(memory.recall(4, hidden, within=within))
    assert (layers[1][hidden] == 42).all()
    np.testing.assert_array_equal(layers[1], layers[0])
