"""Stable instance ids from mask overlap: shuffled instance lists, instances that leave and return."""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt.frame import Frame
from interorder_rt.track import InstanceTracker, TargetFollower
from interorder_rt.synth import make_sequence

SIZE = 128


@pytest.fixture(scope="module")
def scenes():
    return make_sequence(4, 16, height=SIZE, width=SIZE)


def true_to_tracked(tracker, frames) -> list[dict[int, int]]:
    """Per frame, the tracker's id of each true instance id; ``frames``: (masks, true ids)."""
    return [dict(zip(true, tracker.update(masks))) for masks, true in frames]


def first_ids(mapping: list[dict[int, int]]) -> dict[int, int]:
    """The tracked id each true instance got when it first appeared."""
    first: dict[int, int] = {}
    for m in mapping:
        first.update({i: tracked for i, tracked in m.items() if i not in first})
    return first


def test_ids_survive_a_shuffle_of_the_instances_every_frame(scenes):
    rng = np.random.default_rng(0)
    frames = []
    for scene in scenes:
        perm = rng.permutation(scene.n)
        frames.append((scene.modal[perm], [scene.instances[k].instance_id for k in perm]))
    mapping = true_to_tracked(InstanceTracker(), frames)
    first = first_ids(mapping)
    assert len(set(first.values())) == len(first) and len(first) >= 3
    kept = sum(m[i] == first[i] for m in mapping for i in m)
    assert kept == sum(len(m) for m in mapping)  # 100 % of the instances keep their id


def test_an_instance_that_leaves_for_three_frames_gets_its_old_id_back(scenes):
    leaver = scenes[0].instances[0].instance_id
    frames = []
    for t, scene in enumerate(scenes[:10]):
        keep = [k for k, inst in enumerate(scene.instances) if not (3 <= t < 6 and inst.instance_id == leaver)]
        frames.append((scene.modal[keep], [scene.instances[k].instance_id for k in keep]))
    mapping = true_to_tracked(InstanceTracker(), frames)
    assert all(leaver not in m for m in mapping[3:6])
    assert [m[leaver] for m in mapping[6:]] == [mapping[0][leaver]] * 4
    first = first_ids(mapping)
    assert all(m[i] == first[i] for m in mapping for i in m)


def test_an_instance_gone_longer_than_the_patience_is_new():
    mask = np.zeros((1, 32, 32), bool)
    mask[0, 8:20, 8:20] = True
    tracker = InstanceTracker(patience=2)
    first = tracker.update(mask)
    for _ in range(3):
        assert tracker.update(np.zeros((0, 32, 32), bool)) == ()
    assert tracker.update(mask) != first


def test_new_instances_get_fresh_ids_and_low_overlap_does_not_match():
    a = np.zeros((1, 40, 40), bool)
    a[0, 0:10, 0:10] = True
    b = np.zeros((1, 40, 40), bool)
    b[0, 8:18, 8:18] = True  # IoU with a: 4 / 196
    tracker = InstanceTracker(min_iou=0.2)
    assert tracker.update(a) == (0,)
    assert tracker.update(np.concatenate([b, a])) == (1, 0)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="min_iou"):
        InstanceTracker(min_iou=0)
    with pytest.raises(ValueError, match="patience"):
        InstanceTracker(patience=-1)


def candidates_frame(scene, boxes: list[tuple[int, int, int, int]], ids: list[int]) -> Frame:
    """A checked frame whose instances are the given boxes, every one a candidate target."""
    masks = np.zeros((len(boxes), SIZE, SIZE), bool)
    for mask, (x0, y0, x1, y1) in zip(masks, boxes):
        mask[y0:y1, x0:x1] = True
    pose = next(inst.keypoints for inst in scene.instances if inst.keypoints is not None)
    return Frame(image=scene.image, masks=masks, target=list(range(len(boxes))), keypoints=[pose] * len(boxes),
                 instance_ids=ids).checked()


def test_the_follower_keeps_replacing_the_first_person_by_id(scenes):
    follower = TargetFollower(patience=2)
    big, small = (0, 0, 60, 100), (70, 0, 100, 40)
    replaced = []
    for boxes, ids in [([big, small], [7, 9]),  # 7 is the larger: followed from here on
                       ([small, big], [7, 9]),  # 9 grew larger: 7 is still the one replaced
                       ([small], [9]), ([small], [9]),  # 7 gone: no one replaced while it may return
                       ([big, small], [9, 7]),  # 7 back, at another index
                       ([small], [9]), ([small], [9]), ([small], [9])]:  # 7 gone longer than the patience
        frame = follower.narrow(candidates_frame(scenes[0], boxes, ids))
        replaced.append([frame.instance_ids[t] for t in frame.target])
        assert len(frame.keypoints) == len(frame.target)
    assert replaced == [[7], [7], [], [], [7], [], [], [9]]
