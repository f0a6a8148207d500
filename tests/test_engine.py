"""``Engine`` end to end on small synthetic frames: single and multi-person transfer, streams,
source completion, input formats and every bad-input error."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from interorder_rt.compose import grow_targets, joint_occluders
from interorder_rt.engine import Engine
from interorder_rt.frame import Frame
from interorder_rt.keypoints import INDEX
from interorder_rt.ops.order import OrderResult, layering_from_order, order_from_growth
from interorder_rt.synth import make_sequence, make_transfer_pair

SIZE = 112


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def pair():
    """The first pair whose replaced person has an occluder in front of it and an instance behind it."""
    for seed in range(50):
        pair = make_transfer_pair(seed, setting="objects", height=SIZE, width=SIZE)
        order_y = pair.reference.order[pair.reference_index]
        if (order_y == -1).any() and (order_y == 1).any():
            return pair
    raise RuntimeError("no pair with the replaced person between two instances in seeds 0..49")


@pytest.fixture()
def ready(engine, pair) -> Engine:
    src = pair.source
    engine.set_source(src.image, keypoints=src.instances[pair.source_index].keypoints, masks=src.modal,
                      index=pair.source_index)
    return engine


def reference_frame(pair, **changes) -> dict:
    ref, y = pair.reference, pair.reference_index
    fields = dict(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints)
    return {**fields, **changes}


def rle(mask: np.ndarray) -> dict:
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": list(encoded["size"]), "counts": encoded["counts"].decode("ascii")}


def ground_truth_order(scene) -> OrderResult:
    return OrderResult(order=scene.order, growth=np.zeros(scene.order.shape, np.float32), layering=scene.layering,
                       amodal=scene.amodal)


def fully_covered(engine, keypoints, size) -> np.ndarray:
    """Where the pose stage's person covers its pixels wholly (its edge is blended by coverage)."""
    alpha = getattr(engine.pose(engine.source, keypoints, size), "alpha", None)
    return np.ones(size, bool) if alpha is None else alpha == 255


def test_run_end_to_end(ready, pair):
    ref, y = pair.reference, pair.reference_index
    result = ready.run(**reference_frame(pair))
    assert result.image.shape == ref.image.shape and result.image.dtype == np.uint8
    assert result.order.order.shape == (ref.n, ref.n) and sorted(result.order.layering) == list(range(ref.n))
    assert result.amodal.shape == ref.modal.shape and (result.amodal >= ref.modal).all()
    assert result.targets == (y,) and result.person_masks.shape == (1, SIZE, SIZE) and result.person_mask.any()
    # Only the old person's pixels (grown by the removal margin, snapped to its outline) and the new person's may change.
    removed = grow_targets(ref.modal, result.order.layering, [y], ready.removal_margin, image=ref.image)[y]
    untouched = ~(removed | result.person_mask)
    np.testing.assert_array_equal(result.image[untouched], ref.image[untouched])
    timings = result.timings.as_dict()
    assert all(ms > 0 for ms in timings.values())
    assert timings["total"] >= timings["order"] + timings["pose"] + timings["completion"] + timings["merge"]


def test_occluders_stay_in_front_of_the_new_person(ready, pair):
    """Under the ground-truth order, what hid the old person hides the new one, pixel for pixel."""
    ref, y = pair.reference, pair.reference_index
    result = ready.run(Frame(**reference_frame(pair)), order=ground_truth_order(ref))
    front = [k for k in range(ref.n) if ref.depth[k] > ref.depth[y]]
    for k in front:
        np.testing.assert_array_equal(result.image[ref.modal[k]], ref.image[ref.modal[k]])
    shown = result.visible_person_masks[0]
    inner = shown & fully_covered(ready, ref.instances[y].keypoints, ref.image.shape[:2])
    np.testing.assert_array_equal(result.image[inner], result.person_rgb[0][inner])
    assert not (shown & np.logical_or.reduce(ref.modal[front])).any()


def test_inputs_as_torch_tensors_and_rle_give_the_same_frame(ready, pair):
    ref = pair.reference
    as_numpy = ready.run(**reference_frame(pair)).image
    as_torch = ready.run(**reference_frame(pair, image=torch.from_numpy(ref.image),
                                           masks=torch.from_numpy(ref.modal.astype(np.uint8)))).image
    as_rle = ready.run(**reference_frame(pair, masks=[rle(m) for m in ref.modal])).image
    np.testing.assert_array_equal(as_torch, as_numpy)
    np.testing.assert_array_equal(as_rle, as_numpy)


def test_a_frame_sent_between_processes_gives_the_same_frame(ready, pair):
    """Unpickled arrays (a frame from a reader process) carry dtype objects of their own; the core takes them."""
    ref = pair.reference
    sent = pickle.loads(pickle.dumps(reference_frame(pair)))
    assert sent["image"].dtype is not ref.image.dtype
    np.testing.assert_array_equal(ready.run(**sent).image, ready.run(**reference_frame(pair)).image)


def test_several_people_replaced_in_one_frame(ready):
    pair = make_transfer_pair(2, setting="persons", height=SIZE, width=SIZE)
    ref = pair.reference
    people = [k for k, inst in enumerate(ref.instances) if inst.category == "person"]
    assert len(people) == 2
    result = ready.run(image=ref.image, masks=ref.modal, target=people,
                       keypoints=[ref.instances[k].keypoints for k in people])
    assert result.targets == tuple(people) and result.person_masks.shape == (2, SIZE, SIZE)
    for k in range(2):
        assert result.visible_person_masks[k].any()
        shown = result.visible_person_masks[k] & fully_covered(ready, ref.instances[people[k]].keypoints, (SIZE,) * 2)
        np.testing.assert_array_equal(result.image[shown], result.person_rgb[k][shown])
    removed = grow_targets(ref.modal, result.order.layering, people, ready.removal_margin,
                           image=ref.image)[people].any(axis=0)
    untouched = ~(removed | result.person_mask)
    np.testing.assert_array_equal(result.image[untouched], ref.image[untouched])


def test_an_occluded_source_is_completed_before_warping(engine):
    def hidden_share(pair) -> float:
        person = pair.source.instances[pair.source_index]
        return 1 - person.modal.sum() / person.amodal.sum()

    pair = max((make_transfer_pair(seed, height=SIZE, width=SIZE) for seed in range(12)), key=hidden_share)
    assert hidden_share(pair) > 0.1
    src, x = pair.source, pair.source_index
    person = engine.set_source(src.image, keypoints=src.instances[x].keypoints, masks=src.modal, index=x)
    assert (person.mask >= src.modal[x]).all() and person.mask.sum() > src.modal[x].sum()
    grown = person.mask & ~src.modal[x]
    assert (person.image[grown] != src.image[grown]).any()  # hidden parts were repainted
    np.testing.assert_array_equal(person.image[~grown], src.image[~grown])


def test_the_source_is_prepared_when_set_not_in_the_first_frame(monkeypatch):
    from interorder_rt.pose import mesh_warp

    builds = []
    build_rig = mesh_warp.build_rig
    monkeypatch.setattr(mesh_warp, "build_rig", lambda source: builds.append(source) or build_rig(source))
    pair = make_transfer_pair(1, height=SIZE, width=SIZE)
    src, ref, x, y = pair.source, pair.reference, pair.source_index, pair.reference_index
    engine = Engine()
    person = engine.set_source(src.image, keypoints=src.instances[x].keypoints, masks=src.modal, index=x)
    assert builds == [person]
    engine.run(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints)
    assert builds == [person]  # the first frame reused the rig

    def refuse(source):
        raise ValueError("no mesh for this person")

    monkeypatch.setattr(mesh_warp, "build_rig", refuse)
    with pytest.raises(ValueError, match="no mesh"):
        engine.set_source(ref.image, keypoints=ref.instances[y].keypoints, masks=ref.modal, index=y)
    assert engine.source is person  # a source that cannot be prepared leaves the current one


def test_stream_yields_one_result_per_frame_with_a_consistent_order(ready):
    scenes = make_sequence(2, 4, height=SIZE, width=SIZE)
    frames = []
    for scene in scenes:
        person = next(k for k, inst in enumerate(scene.instances) if inst.category == "person")
        frames.append(Frame(image=scene.image, masks=scene.modal, target=person,
                            keypoints=scene.instances[person].keypoints,
                            instance_ids=[inst.instance_id for inst in scene.instances]))
    results = list(ready.stream(frames))
    assert len(results) == len(scenes)
    for result in results:
        order = result.order.order
        np.testing.assert_array_equal(order, -order.T)
        assert result.image.shape == (SIZE, SIZE, 3)


class ScriptedOrder:
    """An order stage that reports, frame after frame, the given evidence that ``front`` hides ``back``.

    Negative evidence means the reverse. Amodal masks are the modal ones.
    """

    def __init__(self, front: int, back: int, evidence: list[float]) -> None:
        self.front, self.back, self.evidence = front, back, iter(evidence)

    def __call__(self, masks, image=None, *, amodal: bool = False) -> OrderResult:
        growth = np.zeros((masks.n, masks.n), np.float32)
        value = next(self.evidence)
        if value >= 0:
            growth[self.back, self.front] = value
        else:
            growth[self.front, self.back] = -value
        order = order_from_growth(growth)
        layering, dropped = layering_from_order(order, growth)
        return OrderResult(order=order, growth=growth, layering=layering, dropped=dropped, amodal=masks.to_numpy())


def scripted_engine(engine, pair, evidence: list[float]) -> tuple[Engine, int, int]:
    """``engine``'s pose and completion stages under a ``ScriptedOrder`` for the replaced person and its occluder."""
    y = pair.reference_index
    occluder = int(np.flatnonzero(pair.reference.order[y] == -1)[0])
    scripted = Engine(order=ScriptedOrder(occluder, y, evidence), pose=engine.pose, completion=engine.completion)
    src = pair.source
    scripted.set_source(src.image, mask=src.modal[pair.source_index], keypoints=src.instances[pair.source_index].keypoints)
    return scripted, occluder, y


def test_stream_order_does_not_flicker_when_evidence_alternates_near_zero(engine, pair):
    area = SIZE * SIZE
    weak = [(1 if t % 2 == 0 else -1) * 0.5e-4 * area for t in range(8)]  # below the stream's 2e-4 margin
    frames = [Frame(**reference_frame(pair)) for _ in weak]

    per_frame, occluder, y = scripted_engine(engine, pair, weak)
    raw = [per_frame.run(frame).order.order[occluder, y] for frame in frames]
    streamed, occluder, y = scripted_engine(engine, pair, weak)
    stable = [result.order.order[occluder, y] for result in streamed.stream(frames, margin=2e-4)]

    assert raw == [1, -1] * 4  # frame by frame the order flips...
    assert stable == [1] * 8  # ...the stream keeps the first relation


def test_stream_order_follows_a_lasting_change(engine, pair):
    area = SIZE * SIZE
    evidence = [0.01 * area] * 4 + [-0.01 * area] * 8  # the occluder moves behind after frame 4
    frames = [Frame(**reference_frame(pair)) for _ in evidence]
    streamed, occluder, y = scripted_engine(engine, pair, evidence)
    stable = [result.order.order[occluder, y] for result in streamed.stream(frames)]
    assert stable[:5] == [1] * 5  # one contrary frame is not enough
    assert stable[-1] == -1


def test_a_joint_the_occluder_covers_overrules_a_wrong_recovered_order(engine, pair):
    ref = pair.reference
    wrong = [-0.05 * SIZE * SIZE] * 2  # scripted: the replaced person in front of its occluder, with strong evidence
    scripted, occluder, y = scripted_engine(engine, pair, wrong)
    keypoints = ref.instances[y].keypoints.copy()
    shown = np.full_like(keypoints, np.nan)
    core = [INDEX[name] for name in ("neck", "right_shoulder", "left_shoulder", "right_hip", "left_hip")]
    shown[core] = keypoints[core]  # only the joints the pose stage needs: no evidence either way
    assert not joint_occluders(ref.modal, y, shown)[occluder]
    hidden = shown.copy()
    inside = np.argwhere(cv2.erode(ref.modal[occluder].astype(np.uint8), np.ones((5, 5), np.uint8))
                         & ~cv2.dilate(ref.modal[y].astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool))
    hidden[INDEX["right_wrist"]] = inside[len(inside) // 2][::-1] + 0.5  # a wrist hidden under the occluder

    believed = scripted.run(**reference_frame(pair, keypoints=shown))
    overruled = scripted.run(**reference_frame(pair, keypoints=hidden))
    assert believed.order.order[occluder, y] == -1
    assert overruled.order.order[occluder, y] == 1
    assert list(overruled.order.layering).index(occluder) > list(overruled.order.layering).index(y)


def test_a_frame_without_anyone_to_replace_comes_back_unchanged(ready, pair):
    result = ready.run(**reference_frame(pair, target=[], keypoints=[]))
    np.testing.assert_array_equal(result.image, pair.reference.image)
    assert result.person_masks.shape == (0, SIZE, SIZE)


# --- bad input ------------------------------------------------------------------------------------


def test_run_without_a_source_is_refused(pair):
    fresh = Engine()
    with pytest.raises(ValueError, match="no source person"):
        fresh.run(**reference_frame(pair))


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda p: dict(masks=p.reference.modal[:, :-1]), ValueError, "masks are 111x112 but the image is 112x112"),
        (lambda p: dict(target=p.reference.n), ValueError, "target index .* out of range"),
        (lambda p: dict(target=[p.reference_index, p.reference_index],
                        keypoints=[p.reference.instances[p.reference_index].keypoints] * 2), ValueError, "repeat"),
        (lambda p: dict(keypoints=np.full((18, 2), np.nan, np.float32)), ValueError, "lack neck"),
        (lambda p: dict(keypoints=np.zeros((17, 2), np.float32)), ValueError, "shape \\(18, 2\\)"),
        (lambda p: dict(masks=np.concatenate([p.reference.modal, np.zeros((1, SIZE, SIZE), bool)])), ValueError,
         "empty"),
        (lambda p: dict(image=p.reference.image.astype(np.float32)), TypeError, "uint8"),
        (lambda p: dict(image=p.reference.image[..., 0]), ValueError, "\\(H, W, 3\\)"),
        (lambda p: dict(masks=p.reference.modal.astype(np.float32)), TypeError, "bool or 0/1 integers"),
        (lambda p: dict(masks=p.reference.modal.astype(np.uint8) * 255), ValueError, "only 0 and 1"),
        (lambda p: dict(target=1.0), TypeError, "integers"),
        (lambda p: dict(instance_ids=[0]), ValueError, "instance_ids has 1 entries"),
    ],
)
def test_bad_frames_raise_clear_errors(ready, pair, change, error, message):
    with pytest.raises(error, match=message):
        ready.run(**reference_frame(pair, **change(pair)))


def test_run_refuses_a_frame_and_fields_together_or_missing_fields(ready, pair):
    with pytest.raises(TypeError, match="not both"):
        ready.run(Frame(**reference_frame(pair)), image=pair.reference.image)
    with pytest.raises(TypeError, match="missing frame field"):
        ready.run(image=pair.reference.image)


def test_bad_sources_raise_clear_errors(engine, pair):
    src, x = pair.source, pair.source_index
    kp = src.instances[x].keypoints
    with pytest.raises(ValueError, match="mask"):
        engine.set_source(src.image, None, kp)
    with pytest.raises(ValueError, match="index"):
        engine.set_source(src.image, keypoints=kp, masks=src.modal, index=src.n)
    with pytest.raises(ValueError, match="empty"):
        engine.set_source(src.image, np.zeros((SIZE, SIZE), bool), kp)
    with pytest.raises(ValueError, match="source keypoints lack"):
        engine.set_source(src.image, src.modal[x], np.full((18, 2), np.nan, np.float32))


def test_backend_reaches_the_default_stages():
    engine = Engine(backend="torch")
    assert engine.order.backend == "torch"
    assert engine.completion.backend is None  # the default fillers run no net (completion.ENGINE_FILLERS)
    with pytest.raises(ValueError, match="backend must be one of"):
        Engine(backend="tvm")


def test_engine_options_are_checked():
    with pytest.raises(ValueError, match="min_evidence"):
        Engine(min_evidence=-1.0)
    with pytest.raises(TypeError, match="PoseTransfer"):
        Engine(pose="warp")


def test_a_given_order_must_fit_the_frame(ready, pair):
    order = ground_truth_order(pair.reference)
    with pytest.raises(ValueError, match="amodal"):
        ready.run(Frame(**reference_frame(pair)), order=OrderResult(order.order, order.growth, order.layering))
    with pytest.raises(ValueError, match="instances"):
        small = OrderResult(np.zeros((1, 1), np.int8), np.zeros((1, 1), np.float32), np.arange(1),
                            amodal=order.amodal[:1])
        ready.run(Frame(**reference_frame(pair)), order=small)
