"""A still-camera stream's memory of each instance: seen pixels and completions come back while it stands
still or moves as a whole, and what they lack is completed from them."""

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
    out, left = memory.recall(7, hidden)
    assert left is None
    np.testing.assert_array_equal(out[hidden], image[hidden])
    np.testing.assert_array_equal(out[table & ~hidden], image[table & ~hidden])
    assert memory.recall(8, hidden) is None  # another id knows nothing


def test_a_completion_is_kept_for_a_still_instance_and_dropped_when_it_is_gone():
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
    layer, left = memory.recall(3, hidden)
    assert left is None and (layer[hidden] == 99).all() and np.array_equal(layer[visible], noisy[visible])
    moved = np.roll(visible, 15, axis=1)  # the mask moves, the colours under it do not: another object
    memory.update(noisy, moved[None], ids=[3])
    assert memory.recall(3, np.roll(hidden, 15, axis=1)) is None


def test_an_instance_that_moves_as_a_whole_is_followed():
    background, texture = scene(4), scene(5)
    table, hidden = rect(10, 30, 10, 40), rect(10, 30, 20, 26)
    memory = InstanceMemory()
    for t, shift in enumerate((0, 3, 5)):
        mask, behind = np.roll(table, shift, axis=1), np.roll(hidden, shift, axis=1)
        image = background.copy()
        image[mask] = np.roll(texture, shift, axis=1)[mask]  # the table's colours move with it
        memory.update(image, (mask & ~behind)[None], ids=[2])
        if t == 0:
            completed = image.copy()
            completed[behind] = 99
            memory.remember(2, completed, behind)
        else:
            layer, left = memory.recall(2, behind)
            assert left is None and (layer[behind] == 99).all()  # the completion moved with the table
            np.testing.assert_array_equal(layer[mask & ~behind], image[mask & ~behind])


def test_what_the_kept_completion_lacks_is_left_to_complete_and_then_kept():
    image, table, hidden = scene(6), rect(10, 30, 10, 50), rect(10, 30, 20, 30)
    memory = InstanceMemory()
    memory.update(image, (table & ~hidden & ~rect(10, 30, 30, 31))[None], ids=[5])  # a column hidden too
    completed = np.full_like(image, 99)
    memory.remember(5, completed, hidden)
    wider = hidden | rect(10, 30, 30, 31)  # the hidden part grows by a column never seen
    memory.update(image, (table & ~wider)[None], ids=[5])
    layer, left = memory.recall(5, wider)
    np.testing.assert_array_equal(left, rect(10, 30, 30, 31))
    memory.remember(5, np.full_like(image, 42), left, extend=True)
    layer, left = memory.recall(5, wider)
    assert left is None and (layer[hidden] == 99).all() and (layer[rect(10, 30, 30, 31)] == 42).all()


def test_a_completion_seen_in_good_part_since_is_made_anew_next_to_what_was_seen():
    from interorder_rt.compose.instance_memory import REFRESH_BAND

    image, table, hidden = scene(7), rect(0, 40, 0, 60), rect(10, 30, 10, 50)
    memory = InstanceMemory()
    memory.update(image, (table & ~hidden)[None], ids=[6])
    memory.remember(6, np.full_like(image, 99), hidden)
    smaller = rect(10, 30, 10, 46)  # a tenth of the completion is seen now
    memory.update(image, (table & ~smaller)[None], ids=[6])
    layer, left = memory.recall(6, smaller)
    near = rect(10, 30, 46 - REFRESH_BAND, 46)
    np.testing.assert_array_equal(left, near)  # completed anew, with what was seen as context
    assert (layer[smaller & ~near] == 99).all()  # farther off, the completion stays


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


class _PersonInFront:
    """Order recovery for (person, table) frames: the person in front, the table's amodal mask its
    whole rectangle wherever the table's visible pixels lie."""

    def __call__(self, masks, image=None, *, amodal: bool = False):
        from interorder_rt.ops.order import OrderResult

        modal = masks.to_numpy()
        whole = modal.copy()
        ys, xs = np.nonzero(modal[1])
        whole[1, ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] = True
        order = np.array([[0, 1], [-1, 0]], np.int8)
        growth = np.array([[0, 0], [modal[0].sum(), 0]], np.float32)  # the table grows into the person
        return OrderResult(order=order, growth=growth, layering=np.array([1, 0]),
                           dropped=[], amodal=whole if amodal else None)


def test_engine_stream_follows_a_moving_instance_and_completes_it_once():
    from interorder_rt.engine import Engine
    from interorder_rt.eval.removal import _STAND_IN_KEYPOINTS, _Nobody

    h, w = 60, 120
    background, texture = scene(8, h, w), scene(9, h, w)
    engine = Engine(order=_PersonInFront(), pose=_Nobody(), removal_margin=0)
    engine.set_source(np.zeros((40, 20, 3), np.uint8), np.ones((40, 20), bool), _STAND_IN_KEYPOINTS)
    calls = []
    complete_layers = engine.completion.complete_layers  # every completion of the stage goes through it
    engine.completion.complete_layers = lambda *a: calls.append(1) or complete_layers(*a)
    frames, behind = [], []
    for t in range(4):  # a table carried along by the person in front of it, 2 px a frame
        table, person = rect(10, 40, 20 + 2 * t, 80 + 2 * t, h, w), rect(5, 50, 40 + 2 * t, 52 + 2 * t, h, w)
        image = background.copy()
        image[table] = np.roll(texture, 2 * t, axis=1)[table]  # the table's colours move with it
        image[person] = (255, 0, 255)
        frames.append({"image": image, "masks": np.stack([person, table & ~person]), "target": 0,
                       "keypoints": _STAND_IN_KEYPOINTS, "instance_ids": [1, 2]})
        behind.append(table & person)
    results = list(engine.stream(frames, memory="static"))
    assert len(calls) == 1  # the first frame's completion; later the memory, moved with the table, serves it
    np.testing.assert_array_equal(results[3].image[behind[3]], results[0].image[behind[0]])  # moved along, unchanged
    assert not (results[3].image[behind[3]] == (255, 0, 255)).all(axis=-1).any()


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
        layers.append(memory.recall(4, hidden, within=within)[0])
    assert (layers[1][hidden] == 42).all()
    np.testing.assert_array_equal(layers[1], layers[0])
