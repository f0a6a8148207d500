"""The Engine's device path (``backends.device_engine``) run on CPU tensors with the CPU kernels:
every stage's array plumbing, pixel for pixel against the host path."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from interorder_rt import Engine, Frame
from interorder_rt.backends import device_composite, device_fill, device_masks
from interorder_rt.backends.device_engine import DevicePath
from interorder_rt.compose import Layer, give_to_front, grow_targets, paint, plan_removal, with_joint_evidence
from interorder_rt.compose.exemplar import ExemplarOptions, exemplar_fill
from interorder_rt.completion import ContentCompletion
from interorder_rt.engine import _Stopwatch
from interorder_rt.ops.order import OrderResult
from interorder_rt.synth import make_transfer_pair

SIZE = 96
CPU = torch.device("cpu")


def _random_masks(seed: int, n: int = 4, size: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, size, size), bool)
    for k in range(n):
        x0, y0 = rng.integers(0, size - 12, 2)
        w, h = rng.integers(6, 20, 2)
        masks[k, y0 : y0 + h, x0 : x0 + w] = True
    return masks


def _outlined_image(masks: np.ndarray, seed: int) -> np.ndarray:
    """A noisy grey frame with each instance in its own colour and a rim of that colour 3 px
    around it that its mask misses (what the outline snap looks for)."""
    rng = np.random.default_rng(seed)
    image = np.clip(110 + rng.normal(0, 6, (*masks.shape[1:], 3)), 0, 255).astype(np.uint8)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    for mask in masks:
        rim = cv2.dilate(mask.astype(np.uint8), disc).astype(bool)
        image[rim] = rng.integers(0, 256, 3)
    return image


@pytest.mark.parametrize("seed", range(4))
def test_mask_bookkeeping_matches_the_host(seed):
    masks = _random_masks(seed)
    layering = np.random.default_rng(seed).permutation(len(masks))
    tensor = torch.from_numpy(masks)
    owned, reassigned = give_to_front(masks, layering)
    d_owned, d_reassigned = device_masks.give_to_front(tensor, layering, overlapping=True)
    np.testing.assert_array_equal(d_owned.numpy(), owned)
    np.testing.assert_array_equal(d_reassigned.numpy(), reassigned)
    targets = [int(layering[1]), int(layering[3])]
    modal = grow_targets(owned, layering, targets, 0.1)
    np.testing.assert_array_equal(device_masks.grow_targets(d_owned, layering, targets, 0.1).numpy(), modal)
    image = _outlined_image(masks, seed)
    snapped = grow_targets(owned, layering, targets, 0.1, image=image)
    assert (snapped != modal).any()  # the snap took something here, on both
    np.testing.assert_array_equal(
        device_masks.grow_targets(d_owned, layering, targets, 0.1, torch.from_numpy(image)).numpy(), snapped)
    amodal = modal | np.roll(modal, 3, axis=2)
    plan = plan_removal(modal, amodal, layering, targets)
    d_plan = device_masks.plan_removal(torch.from_numpy(modal), torch.from_numpy(amodal), layering, targets)
    for name in ("hole", "revealed", "background"):
        np.testing.assert_array_equal(getattr(d_plan, name).numpy(), getattr(plan, name))
    assert d_plan.box == plan.box and d_plan.needs_completion() == plan.needs_completion()


def test_joint_evidence_matches_the_host_at_the_frame_border():
    masks = np.zeros((3, 30, 30), bool)
    masks[0, 10:20, 10:20] = True  # the replaced person
    masks[1, 0:12, 0:8] = True  # touches the frame's corner: erosion reads outside as set
    masks[2, 14:30, 20:30] = True
    keypoints = np.full((18, 2), np.nan, np.float32)
    keypoints[:4] = [[1, 1], [25, 25], [15, 15], [6, 10]]
    order = OrderResult(order=np.zeros((3, 3), np.int8), growth=np.zeros((3, 3), np.float32),
                        layering=np.arange(3))
    host = with_joint_evidence(order, masks, [0], [keypoints])
    device = device_masks.with_joint_evidence(order, torch.from_numpy(masks), [0], [keypoints])
    np.testing.assert_array_equal(device.order, host.order)
    assert host.order[1, 0] == 1 and host.order[2, 0] == 1


def test_paint_matches_the_host():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    layers = [Layer(rng.integers(0, 256, base.shape, dtype=np.uint8), rng.random((20, 24)) > 0.5),
              Layer(rng.integers(0, 256, base.shape, dtype=np.uint8), np.zeros((20, 24), bool),
                    rng.integers(0, 3, (20, 24)).astype(np.uint8) * 100, (2, 3, 18, 15))]
    out, owner = paint(base, layers)
    t = [Layer(*(None if a is None else torch.from_numpy(a) for a in (l.rgb, l.mask, l.alpha)), l.box) for l in layers]
    d_out, d_owner = device_composite.paint(torch.from_numpy(base), t)
    np.testing.assert_array_equal(d_out.numpy(), out)
    np.testing.assert_array_equal(d_owner.numpy(), owner)


@pytest.mark.parametrize("avoid", [False, True])
def test_exemplar_fill_matches_the_host(avoid):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    hole = np.zeros((48, 64), bool)
    hole[18:30, 20:34] = True
    barred = np.zeros_like(hole)
    barred[:, 40:50] = avoid
    options = ExemplarOptions(context=0.2, min_context=6)
    host = exemplar_fill(image, hole, avoid=barred, options=options)
    device = device_fill.exemplar_fill_tensor(torch.from_numpy(image), torch.from_numpy(hole),
                                              avoid=torch.from_numpy(barred), options=options)
    np.testing.assert_array_equal(device.numpy(), host)


def test_exemplar_fill_without_any_patch_falls_back_to_telea_as_the_host():
    image = np.random.default_rng(2).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    hole = np.zeros((20, 20), bool)
    hole[5:15, 5:15] = True
    source = np.zeros_like(hole)
    source[0, :] = True  # one row: no patch of 3 x 3 lies in it
    host = exemplar_fill(image, hole, source=source)
    device = device_fill.exemplar_fill_tensor(torch.from_numpy(image), torch.from_numpy(hole),
                                              source=torch.from_numpy(source))
    np.testing.assert_array_equal(device.numpy(), host)


@pytest.fixture(scope="module")
def pairs():
    """Synthetic frames with another person: instances that reveal content, and masks that overlap."""
    return [make_transfer_pair(seed, setting="persons", height=SIZE, width=SIZE) for seed in (2, 5)]


def _engine(pair, **completion) -> Engine:
    engine = Engine(completion=ContentCompletion(**completion) if completion else None)
    src = pair.source
    engine.set_source(src.image, keypoints=src.instances[pair.source_index].keypoints, masks=src.modal,
                      index=pair.source_index)
    return engine


@pytest.mark.filterwarnings("ignore:instance masks overlap")
@pytest.mark.parametrize("fillers", [{}, {"background": "exemplar", "instance": "exemplar"}],
                         ids=["default", "exemplar"])
def test_the_device_path_on_cpu_tensors_gives_the_host_result(pairs, fillers):
    for pair in pairs:
        engine = _engine(pair, **fillers)
        ref, y = pair.reference, pair.reference_index
        masks = ref.modal.copy()
        masks[:, :, 1:] |= masks[:, :, :-1] & (np.arange(masks.shape[0]) == y)[:, None, None]  # a loose mask: overlaps
        kp = ref.instances[y].keypoints
        host = engine.run(image=ref.image, masks=masks, target=y, keypoints=kp)
        frame = Frame(image=torch.from_numpy(ref.image), masks=torch.from_numpy(masks), target=y, keypoints=kp)
        device = DevicePath(engine, CPU).run(frame, None, _Stopwatch())
        assert isinstance(device.image, torch.Tensor)
        np.testing.assert_array_equal(device.image.numpy(), host.image)
        np.testing.assert_array_equal(device.order.order, host.order.order)
        np.testing.assert_array_equal(device.order.layering, host.order.layering)
        for name in ("amodal", "person_rgb", "person_masks", "visible_person_masks", "reassigned"):
            np.testing.assert_array_equal(getattr(device, name).numpy(), getattr(host, name), err_msg=name)
        given = DevicePath(engine, CPU).run(frame, host.order, _Stopwatch())  # a given order is used as it is
        np.testing.assert_array_equal(given.image.numpy(), host.image)


def test_the_device_path_hands_numpy_back_for_numpy_and_checks_like_the_host(pairs):
    pair = pairs[0]
    engine = _engine(pair)
    ref, y = pair.reference, pair.reference_index
    path = DevicePath(engine, CPU)
    out = path.run(Frame(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints), None,
                   _Stopwatch())
    assert isinstance(out.image, np.ndarray) and out.image.shape == ref.image.shape
    bad = torch.from_numpy(ref.modal.astype(np.uint8) * 2)
    with pytest.raises(ValueError, match="integer masks must hold only 0 and 1"):
        path.run(Frame(image=torch.from_numpy(ref.image), masks=bad, target=y, keypoints=ref.instances[y].keypoints),
                 None, _Stopwatch())
    with pytest.raises(TypeError, match="image must be uint8"):
        path.run(Frame(image=torch.zeros(SIZE, SIZE, 3), masks=torch.from_numpy(ref.modal), target=y,
                       keypoints=ref.instances[y].keypoints), None, _Stopwatch())
    empty = path.run(Frame(image=torch.from_numpy(ref.image), masks=torch.zeros(0, SIZE, SIZE, dtype=torch.bool),
                           target=[], keypoints=[]), None, _Stopwatch())
    assert torch.equal(empty.image, torch.from_numpy(ref.image)) and empty.targets == ()


@pytest.mark.filterwarnings("ignore:instance masks overlap")
def test_the_default_completion_runs_on_the_device_path_without_host_code(pairs, monkeypatch):
    from interorder_rt.backends import device_engine

    def refuse(function, *tensors, **options):
        raise AssertionError(f"{function.__qualname__} crossed to the host")

    monkeypatch.setattr(device_engine, "_on_host", refuse)
    pair = pairs[0]
    engine = _engine(pair)
    ref, y = pair.reference, pair.reference_index
    frame = Frame(image=torch.from_numpy(ref.image), masks=torch.from_numpy(ref.modal), target=y,
                  keypoints=ref.instances[y].keypoints)
    host = engine.run(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints)
    device = DevicePath(engine, CPU).run(frame, None, _Stopwatch())
    assert np.abs(device.image.numpy().astype(int) - host.image).max() <= 4


def test_an_rgb_ornet_cuts_its_image_crops_where_the_image_is(pairs, tmp_path):
    from interorder_rt.io.atomic import atomic_torch_save
    from interorder_rt.models.ornet import ORNet, ORNetConfig, export_checkpoint
    from interorder_rt.order_recovery import OrderRecovery, crop_image

    image = np.random.default_rng(4).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    boxes = np.array([[-5.0, 2.0, 20.0, 27.0], [10.5, -3.0, 45.0, 31.5]])
    np.testing.assert_array_equal(crop_image(torch.from_numpy(image), boxes, 16).numpy(), crop_image(image, boxes, 16))
    torch.manual_seed(0)
    model = ORNet(ORNetConfig(size=32, widths=(8, 16), rgb=True)).eval()
    atomic_torch_save(export_checkpoint(model), tmp_path / "rgb.pt")
    pair = pairs[1]
    engine = _engine(pair)
    engine.order = OrderRecovery(tmp_path / "rgb.pt", backend="torch")
    ref, y = pair.reference, pair.reference_index
    kp = ref.instances[y].keypoints
    host = engine.run(image=ref.image, masks=ref.modal, target=y, keypoints=kp)
    frame = Frame(image=torch.from_numpy(ref.image), masks=torch.from_numpy(ref.modal), target=y, keypoints=kp)
    device = DevicePath(engine, CPU).run(frame, None, _Stopwatch())
    np.testing.assert_array_equal(device.amodal.numpy(), host.amodal)
    np.testing.assert_array_equal(device.image.numpy(), host.image)


def _moving_frames(pair, tensors: bool) -> list[dict]:
    """A few frames of one scene without instance ids: still, still again (the order is reused),
    everyone two pixels to the right, the instances listed in reverse (the tracker keeps ids), no
    one, and back."""
    ref, y = pair.reference, pair.reference_index
    kp = ref.instances[y].keypoints
    n = ref.modal.shape[0]
    moved = np.roll(ref.modal, 2, axis=2)
    reverse = np.arange(n)[::-1]
    frames = [(ref.image, ref.modal, y, kp), (ref.image, ref.modal, y, kp), (np.roll(ref.image, 2, axis=1), moved, y,
              kp + [2, 0]), (ref.image, ref.modal[reverse], n - 1 - y, kp),
              (ref.image, np.zeros((0, SIZE, SIZE), bool), [], []), (ref.image, ref.modal, y, kp)]
    wrap = torch.from_numpy if tensors else np.ascontiguousarray
    return [dict(image=wrap(np.ascontiguousarray(image)), masks=wrap(np.ascontiguousarray(masks)), target=target,
                 keypoints=keypoints) for image, masks, target, keypoints in frames]


class _FlickeringOrder:
    """An order stage reading masks only whose evidence flips on every other call: strong for the
    lower instance of each bordering pair in front, then weak against it, so a stream's smoothing
    and its order reuse both show in the results."""

    reads_image = False

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, maskset, image, amodal: bool = False) -> OrderResult:
        from interorder_rt.ops.order import layering_from_order

        n = len(maskset)
        front, back = np.nonzero(np.triu(maskset.bordering_matrix(), k=1))
        growth = np.zeros((n, n), np.float32)
        if self.calls % 2:
            growth[front, back] = 10.0
        else:
            growth[back, front] = 50.0
        self.calls += 1
        order = np.sign(growth.T - growth).astype(np.int8)
        layering, dropped = layering_from_order(order, growth)
        return OrderResult(order=order, growth=growth, layering=layering, dropped=dropped,
                           amodal=maskset.to_numpy() if amodal else None)


@pytest.mark.filterwarnings("ignore:instance masks overlap")
@pytest.mark.parametrize("follow", [False, True])
def test_a_stream_on_the_device_path_gives_the_host_stream(pairs, follow):
    pair = pairs[0]
    engine = _engine(pair)
    engine.order = _FlickeringOrder()
    host = list(engine.stream(_moving_frames(pair, tensors=False), memory=None, follow=follow))
    engine.order = _FlickeringOrder()
    engine._device_path = DevicePath(engine, CPU)  # what Engine(device="cuda") holds, here on CPU tensors
    device = list(engine.stream(_moving_frames(pair, tensors=True), memory=None, follow=follow))
    assert len(device) == len(host) == 6
    for k, (d, h) in enumerate(zip(device, host)):
        assert isinstance(d.image, torch.Tensor) and isinstance(d.amodal, torch.Tensor), k  # the device path ran
        np.testing.assert_array_equal(d.image.numpy(), h.image, err_msg=f"frame {k}")
        assert d.instance_ids == h.instance_ids and d.targets == h.targets, k
        np.testing.assert_array_equal(d.order.order, h.order.order, err_msg=f"frame {k}")
        np.testing.assert_array_equal(d.order.growth, h.order.growth, err_msg=f"frame {k}")
        np.testing.assert_array_equal(d.amodal.numpy(), h.amodal, err_msg=f"frame {k}")
    assert device[3].instance_ids == device[0].instance_ids[::-1]  # the tracker matched the reversed listing


@pytest.mark.filterwarnings("ignore:instance masks overlap")
def test_a_stream_on_the_device_path_keeps_the_host_streams_memories(pairs):
    pair = pairs[0]
    engine = _engine(pair)
    host = list(engine.stream(_moving_frames(pair, tensors=False)))  # memory="static", the default
    engine._device_path = DevicePath(engine, CPU)
    device = list(engine.stream(_moving_frames(pair, tensors=True)))
    assert len(device) == len(host) == 6
    for k, (d, h) in enumerate(zip(device, host)):
        assert isinstance(d.image, torch.Tensor), k
        np.testing.assert_array_equal(d.image.numpy(), h.image, err_msg=f"frame {k}")
