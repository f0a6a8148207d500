"""A stream's memories on the device path (``backends.device_memory``), run on CPU tensors: the
same answers as the host memories, frame for frame, and the device path's stream with them gives
the host stream's images.

Measured tolerances (this machine, OpenCV 5.0): none is needed. The static memory, the instance
memory and the fill cache are the host code on tensors and bit-identical; the homography memory
estimates the same homography (by default it matches the frame at full size: ORB sees the host's
grey image) and resamples its canvas as ``cv2.warpPerspective`` does, over the box where the
frame lands (the host does the same with OpenCV on a shifted map): the colours both canvases saw
were measured bit-identical over the pan below, and a frame's edge pixels may land in one canvas
only. The warp is asserted to 1 grey level on at most 0.1 % of the pixels (``WARP_LEVELS``,
``WARP_SHARE``), the room a CPU whose OpenCV build rounds one float32 step of its warp
differently would need. With ``match_side=MATCH_SIDE`` a frame over it is matched on a grey copy
shrunk by 2: its homography puts the frame's corners within ``SHRUNK_FROM_HOST_PX`` of the
host's and ``SHRUNK_FROM_TRUTH_PX`` of the true motion (measured in the constants).
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest
import torch

from interorder_rt import Engine
from interorder_rt.backends import device_engine
from interorder_rt.backends.device_engine import DevicePath
from interorder_rt.backends.device_memory import (
    MATCH_SIDE, DeviceBackgroundMemory, DeviceRepeatCache, TensorArrays, grey, warp_linear, warp_nearest,
)
from interorder_rt.compose import BackgroundMemory
from interorder_rt.compose.instance_memory import MAX_MISSING
from interorder_rt.eval.removal import _STAND_IN_KEYPOINTS, _Nobody
from test_removal import _exemplar, _single_order, box, mosaic, textured

CPU = torch.device("cpu")
WARP_LEVELS = 1  # grey levels the device warp may differ from cv2.warpPerspective by (measured: 0)
WARP_SHARE = 1e-3  # on at most this share of the pixels
SHRUNK_FROM_HOST_PX = 1.0  # frame corners, shrunk-copy homography against the host's (measured: 0.52 px)
SHRUNK_FROM_TRUTH_PX = 0.5  # and against the camera's true motion (measured: 0.23 px; the host's: 0.46 px)


def _t(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array))


def _assert_close_images(device: torch.Tensor, host: np.ndarray, what: str) -> None:
    diff = np.abs(device.numpy().astype(np.int16) - host)
    assert diff.max() <= WARP_LEVELS and np.count_nonzero(diff) <= WARP_SHARE * diff.size, (
        f"{what}: {np.count_nonzero(diff)} values differ, by up to {diff.max()}")


def _assert_close_masks(device: torch.Tensor, host: np.ndarray, what: str) -> None:
    differ = np.count_nonzero(device.numpy() != host)
    assert differ <= WARP_SHARE * host.size, f"{what}: {differ} pixels differ"


def _same_memory(device: DeviceBackgroundMemory, host: BackgroundMemory, exact: bool = True) -> None:
    assert device.cuts == host.cuts
    np.testing.assert_array_equal(device._to_canvas, host._to_canvas)
    if exact:
        np.testing.assert_array_equal(device.seen.numpy(), host.seen)
        np.testing.assert_array_equal(device.canvas.numpy(), host.canvas)
    else:  # the frame's edge pixels may land in one canvas only: colours are compared where both saw them
        _assert_close_masks(device.seen, host.seen, "seen")
        both = device.seen.numpy() & host.seen
        _assert_close_images(device.canvas[torch.from_numpy(both)], host.canvas[both], "canvas")


def _drive(align: str, frames: list[np.ndarray], covered: list[np.ndarray], holes: list[np.ndarray]) -> tuple:
    """Both memories through the same frames: after each update, a recall of the hole, a fill of
    what is left kept, and the recall again (with a still camera the fill comes back)."""
    host, device = BackgroundMemory(align), DeviceBackgroundMemory(align, CPU)
    exact = align == "static"
    for k, (image, person, hole) in enumerate(zip(frames, covered, holes)):
        host.update(image, person)
        device.update(_t(image), _t(person))
        _same_memory(device, host, exact)
        for again in (False, True):
            out, rest = host.recall(image, hole)
            d_out, d_rest = device.recall(_t(image), _t(hole))
            if exact:
                np.testing.assert_array_equal(d_rest.numpy(), rest, err_msg=f"frame {k}")
                np.testing.assert_array_equal(d_out.numpy(), out, err_msg=f"frame {k}")
            else:
                _assert_close_masks(d_rest, rest, f"rest of frame {k}")
                _assert_close_images(d_out, out, f"recall of frame {k}")
            if not again:
                fill = np.full_like(image, 40 + k)
                host.remember(fill, rest)
                device.remember(_t(fill), d_rest)
    return host, device


def test_static_memory_on_tensors_is_the_host_memory_bit_for_bit():
    h, w = 60, 80
    frames = [textured(h, w, 0)] * 5 + [textured(h, w, 1)] * 3  # a camera cut before frame 5
    covered = [box(h, w, 10, 50, 10 + 5 * t, 30 + 5 * t) for t in range(8)]
    holes = [box(h, w, 10, 50, 12 + 5 * t, 34 + 5 * t) for t in range(8)]
    host, device = _drive("static", frames, covered, holes)
    assert device.cuts == host.cuts == 1
    assert isinstance(device.canvas, torch.Tensor) and isinstance(device._synthesis.filled, torch.Tensor)


def _pan() -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """A camera panning over a mosaic with a person walking, then a cut to another scene and back."""
    wide = mosaic(240, 600, 2)
    frames = [wide[:, 6 * t : 6 * t + 360] for t in range(5)] + [mosaic(240, 360, 9), wide[:, 30:390]]
    covered = [box(240, 360, 60, 220, 160 - 5 * t, 220 - 5 * t) for t in range(len(frames))]
    holes = [box(240, 360, 60, 220, 90 + 3 * t, 150 + 3 * t) for t in range(len(frames))]
    return [np.ascontiguousarray(f) for f in frames], covered, holes


def test_homography_memory_on_tensors_matches_the_host():
    host, device = _drive("homography", *_pan())
    assert device.cuts == host.cuts == 2  # into the other scene and back out of it
    assert tuple(device.canvas.shape) == host.canvas.shape == (480, 720, 3)  # bounded: twice the frame


def test_homography_memory_matches_a_frame_over_match_side_at_full_size_by_default():
    h, w = 480, 720
    wide = mosaic(h, 1100, 2)
    host, device = BackgroundMemory("homography"), DeviceBackgroundMemory("homography", CPU)
    for t in range(4):
        image = np.ascontiguousarray(wide[:, 12 * t : 12 * t + w])
        person = box(h, w, 120, 440, 320 - 10 * t, 440 - 10 * t)
        host.update(image, person)
        device.update(_t(image), _t(person))
        np.testing.assert_array_equal(device._to_canvas, host._to_canvas)  # the host's homography, to the bit


def test_homography_matched_on_a_shrunk_grey_copy_when_asked_follows_the_camera_as_closely(monkeypatch):
    crossed = []
    to_host = TensorArrays.to_host
    monkeypatch.setattr(TensorArrays, "to_host", staticmethod(lambda *t: crossed.append(t) or to_host(*t)))
    h, w = 480, 720  # over MATCH_SIDE: matched on a copy shrunk by 2
    wide = mosaic(h, 1100, 2)
    host, device = BackgroundMemory("homography"), DeviceBackgroundMemory("homography", CPU, match_side=MATCH_SIDE)
    corners = np.array([[0, w, 0, w], [0, 0, h, h], [1, 1, 1, 1]], np.float64)
    for t in range(6):
        image = np.ascontiguousarray(wide[:, 12 * t : 12 * t + w])
        person = box(h, w, 120, 440, 320 - 10 * t, 440 - 10 * t)
        host.update(image, person)
        device.update(_t(image), _t(person))
        truth = corners[:2] + np.array([[w / 2 + 12 * t], [h / 2]])  # the camera pans 12 pixels a frame
        a, b = host._to_canvas @ corners, device._to_canvas @ corners
        assert np.abs(a[:2] / a[2] - b[:2] / b[2]).max() < SHRUNK_FROM_HOST_PX, t
        assert np.abs(b[:2] / b[2] - truth).max() < SHRUNK_FROM_TRUTH_PX, t
    assert device.cuts == host.cuts == 0
    hole = box(h, w, 120, 440, 180, 300)
    out, rest = device.recall(_t(image), _t(hole))
    filled = hole & ~rest.numpy()
    assert filled.sum() > 0.5 * hole.sum()
    assert np.abs(out.numpy()[filled].astype(int) - image[filled]).mean() < 1  # grey levels (measured: 0.25)
    assert max(sum(t.numel() for t in tensors) for tensors in crossed) <= 2 * (h // 2) * (w // 2)  # grey + mask


def test_the_device_warps_are_opencvs():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (120, 170, 3), dtype=np.uint8)
    mask = rng.random((120, 170)) > 0.3
    np.testing.assert_array_equal(grey(_t(image)).numpy(), cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    np.testing.assert_array_equal(TensorArrays.eroded(_t(mask)).numpy(),
                                  cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool))
    for _ in range(6):
        to_src = np.array([[1 + rng.normal(0, 0.05), rng.normal(0, 0.05), rng.normal(-40, 10)],
                           [rng.normal(0, 0.05), 1 + rng.normal(0, 0.05), rng.normal(-30, 10)],
                           [rng.normal(0, 1e-4), rng.normal(0, 1e-4), 1.0]])
        size, box_ = (241, 187), (0, 0, 241, 187)  # odd widths: OpenCV's scalar tail too
        flags = cv2.WARP_INVERSE_MAP
        host = cv2.warpPerspective(image, to_src, size, flags=cv2.INTER_LINEAR | flags)
        _assert_close_images(warp_linear(_t(image), to_src, box_), host, "warp_linear")
        host = cv2.warpPerspective(mask.astype(np.uint8), to_src, size, flags=cv2.INTER_NEAREST | flags)
        nearest = warp_nearest(_t(mask), to_src, box_).numpy()
        assert np.count_nonzero(nearest != host.astype(bool)) <= WARP_SHARE * nearest.size


def test_the_instance_memory_on_tensors_is_the_hosts():
    host, device = BackgroundMemory("static").instances, DeviceBackgroundMemory("static", CPU).instances
    rng = np.random.default_rng(0)
    background, texture = textured(40, 60, 3), textured(40, 60, 5)
    table, hidden = box(40, 60, 10, 30, 10, 40), box(40, 60, 10, 30, 22, 32)
    for t in range(12):
        shift = t // 3  # the table moves a pixel right every third frame: followed
        mask, behind = np.roll(table, shift, axis=1), np.roll(hidden, shift + t % 2, axis=1)
        column = np.roll(box(40, 60, 10, 30, 34, 35), shift, axis=1)  # hidden by instance 7 until frame 5
        behind |= column if t >= 5 else False  # then never seen: completed from the memory's layer
        image = background.copy()
        image[mask] = np.roll(texture, shift, axis=1)[mask]
        image = np.clip(image.astype(int) + rng.integers(-2, 3, image.shape), 0, 255).astype(np.uint8)
        image = 255 - image if t == 8 else image  # another object in the same place: starts afresh
        other = column if t < 5 else box(40, 60, 0, 8, 0, 20 + t)
        modal = np.stack([mask & ~behind & ~other, other])
        host.update(image, modal, [3, 7])
        device.update(_t(image), _t(modal), [3, 7])
        hit, d_hit = host.recall(3, behind), device.recall(3, _t(behind))
        assert (hit is None) == (d_hit is None), t
        if hit is not None:
            np.testing.assert_array_equal(d_hit[0].numpy(), hit[0])
            assert (hit[1] is None) == (d_hit[1] is None), t
        if hit is None or hit[1] is not None:
            region = behind if hit is None else hit[1]
            if hit is not None:
                np.testing.assert_array_equal(d_hit[1].numpy(), region)
            completed = np.full_like(image, 10 * t)
            host.remember(3, completed, region, extend=hit is not None)
            device.remember(3, _t(completed), _t(region), extend=hit is not None)
        for entry, d_entry in zip(host._by_id.values(), device._by_id.values()):
            np.testing.assert_array_equal(d_entry.canvas.numpy(), entry.canvas)
            np.testing.assert_array_equal(d_entry.seen.numpy(), entry.seen)
            np.testing.assert_array_equal(d_entry.completion.filled.numpy(), entry.completion.filled)
    assert device.recalls == host.recalls > 0


def test_the_memories_stay_bounded():
    memory = DeviceBackgroundMemory("static", CPU)
    scene = textured(40, 60, 4)
    for t in range(3 * MAX_MISSING):
        ids = [t // 5, 1000]  # a new instance every 5 frames, one that stays
        modal = np.stack([box(40, 60, 5, 20, 5, 25), box(40, 60, 25, 35, 30, 50)])
        memory.update(_t(scene), _t(modal.any(axis=0)))
        memory.instances.update(_t(scene), _t(modal), ids)
        assert len(memory.instances._by_id) <= MAX_MISSING // 5 + 3  # ids unseen for MAX_MISSING frames go
        assert tuple(memory.canvas.shape) == scene.shape and tuple(memory.seen.shape) == scene.shape[:2]
    cache, calls = DeviceRepeatCache(), []
    for k in range(4):
        cache.get("background", (_t(scene), torch.tensor([k % 2])), lambda: calls.append(1) or _t(scene))
    assert len(cache._last) == 1 and len(calls) == 4  # one entry a name: the last inputs only


def test_the_fill_cache_on_tensors_reuses_only_exact_repeats():
    cache, calls = DeviceRepeatCache(), []
    image, mask = torch.zeros(4, 5, 3, dtype=torch.uint8), torch.zeros(4, 5, dtype=torch.bool)
    first = cache.get("instances", (image, mask), lambda: calls.append(1) or {0: image + 1})
    image[0, 0, 0] = 9  # the caller reuses its buffer: the cache kept a copy of the inputs
    for inputs, computes in [((torch.zeros_like(image), mask.clone()), False), ((image, mask), True),
                             ((image, mask.to(torch.uint8)), True), ((image.clone(), mask.to(torch.uint8)), False)]:
        before = len(calls)
        out = cache.get("instances", inputs, lambda: calls.append(1) or {0: image + 2})
        assert (len(calls) > before) == computes and (out is first) == (len(calls) == 1)
    assert cache.hits == 2


# ---- the device path's stream ---------------------------------------------------------------

def _removal_engine(**completion) -> Engine:
    from interorder_rt.completion import ContentCompletion

    engine = Engine(order=_single_order(), pose=_Nobody(),
                    completion=ContentCompletion(**completion) if completion else _exemplar())
    engine.set_source(np.zeros((40, 20, 3), np.uint8), np.ones((40, 20), bool), _STAND_IN_KEYPOINTS)
    return engine


def _streams(engine: Engine, frames: list[dict], **options) -> tuple[list, list]:
    """The host stream of NumPy frames and the device path's stream of the same frames as CPU tensors."""
    host = list(engine.stream(frames, **options))
    engine._device_path = DevicePath(engine, CPU)  # what Engine(device="cuda") holds, here on CPU tensors
    tensors = [{k: _t(v) if isinstance(v, np.ndarray) and k in ("image", "masks") else v for k, v in f.items()}
               for f in frames]
    device = list(engine.stream(tensors, **options))
    engine._device_path = None
    return host, device


def _removal_frames(shots: list[np.ndarray], masks: list[np.ndarray], noise: int = 0) -> list[dict]:
    rng = np.random.default_rng(0)
    frames = []
    for shot, mask in zip(shots, masks):
        frame = np.clip(shot + rng.integers(-noise, noise + 1, shot.shape), 0, 255).astype(np.uint8)
        frame[mask] = (255, 0, 255)
        frames.append({"image": frame, "masks": mask[None], "target": 0, "keypoints": _STAND_IN_KEYPOINTS})
    return frames


def _assert_same_stream(device: list, host: list) -> None:
    assert len(device) == len(host)
    for k, (d, h) in enumerate(zip(device, host)):
        assert isinstance(d.image, torch.Tensor), k  # the device path ran
        np.testing.assert_array_equal(d.image.numpy(), h.image, err_msg=f"frame {k}")


def test_a_still_camera_stream_on_the_device_path_gives_the_host_stream_with_memory(monkeypatch):
    fills = {"host": 0, "device": 0}
    fill = device_engine.exemplar_fill_tensor

    def device_fill(*args, **options):
        fills["device"] += 1
        return fill(*args, **options)

    monkeypatch.setattr(device_engine, "exemplar_fill_tensor", device_fill)
    truth = textured(64, 96, 3)
    here, there = box(64, 96, 10, 60, 20, 40), box(64, 96, 10, 60, 50, 70)  # apart by more than the margins
    # Standing still with sensor noise (the never-seen hole is synthesised once), no one in the frame,
    # walking on (what it hid is seen now), back (what it left shows), then a cut to another shot.
    frames = _removal_frames([truth] * 6, [here, here, here, here, there, here], noise=2)
    frames[3] = {"image": frames[3]["image"], "masks": np.zeros((0, 64, 96), bool), "target": [], "keypoints": []}
    frames += _removal_frames([np.full((64, 96, 3), 60, np.uint8)], [here])
    engine = _removal_engine()
    host_fill = engine.completion.fill_background

    def counted(*args, **options):
        fills["host"] += 1
        return host_fill(*args, **options)

    engine.completion.fill_background = counted
    host, device = _streams(engine, frames)
    _assert_same_stream(device, host)
    assert fills == {"host": 2, "device": 2}  # the first frame and the new shot: nothing else is never-seen
    np.testing.assert_array_equal(device[2].image.numpy()[here], device[0].image.numpy()[here])  # the fill reused
    np.testing.assert_array_equal(device[5].image.numpy()[here], frames[4]["image"][here])  # seen in frame 4
    assert np.abs(device[4].image.numpy()[there].astype(int) - truth[there]).max() <= 2  # seen, up to the noise
    assert np.abs(device[6].image.numpy()[here].astype(int) - 60).max() <= 1  # a cut: nothing of the old shot


def test_repeated_frames_on_the_device_path_reuse_their_fill(monkeypatch):
    fills = []
    fill = device_engine.exemplar_fill_tensor
    monkeypatch.setattr(device_engine, "exemplar_fill_tensor", lambda *a, **k: fills.append(1) or fill(*a, **k))
    frames = _removal_frames([textured(64, 96, 3)] * 3, [box(64, 96, 10, 60, 20, 40)] * 3)  # byte for byte
    host, device = _streams(_removal_engine(), frames, memory=None)
    _assert_same_stream(device, host)
    assert len(fills) == 1  # no memory: the repeats come from the fill cache


def test_a_panning_stream_on_the_device_path_gives_the_host_stream():
    frames, covered, _ = _pan()
    host, device = _streams(_removal_engine(), _removal_frames(frames[:4], covered[:4]), memory="homography")
    for k, (d, h) in enumerate(zip(device, host)):
        _assert_close_images(d.image, h.image, f"frame {k}")  # measured: bit-identical


def test_a_still_instance_is_completed_once_on_the_device_path(monkeypatch):
    from interorder_rt.backends import device_mnet
    from interorder_rt.synth import make_transfer_pair

    calls = []
    complete_many = device_mnet.complete_many
    monkeypatch.setattr(device_mnet, "complete_many", lambda *a: calls.append(1) or complete_many(*a))
    pair = make_transfer_pair(31, setting="persons", height=144, width=256)
    ref, y = pair.reference, pair.reference_index
    engine = Engine()
    src, x = pair.source, pair.source_index
    engine.set_source(src.image, keypoints=src.instances[x].keypoints, masks=src.modal, index=x)
    rng = np.random.default_rng(0)
    frames = [dict(image=np.clip(ref.image + rng.integers(-2, 3, ref.image.shape), 0, 255).astype(np.uint8),
                   masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints,
                   instance_ids=[i.instance_id for i in ref.instances]) for _ in range(3)]
    host, device = _streams(engine, frames)
    assert len(calls) == 1  # the first frame only: the others recall it from the instance memory
    _assert_same_stream(device, host)


def test_the_device_streams_memories_send_only_small_samples_to_the_host(monkeypatch):
    sizes = []
    to_host = TensorArrays.to_host
    monkeypatch.setattr(TensorArrays, "to_host",
                        staticmethod(lambda *t: sizes.append(sum(x.numel() for x in t)) or to_host(*t)))
    h, w = 256, 384
    masks = [box(h, w, 40, 240, 40 + 40 * t, 120 + 40 * t) for t in range(3)]
    host, device = _streams(_removal_engine(), _removal_frames([textured(h, w, 5)] * 3, masks))
    _assert_same_stream(device, host)
    assert sizes and max(sizes) < h * w / 2  # the cut test's samples (K, 3) + (K, 3) + (K,), K about 4096


@pytest.mark.parametrize("memory", ["static", "homography", "nonsense"])
def test_the_device_stream_takes_the_memory_argument_as_the_host(memory):
    engine = _removal_engine()
    engine._device_path = DevicePath(engine, CPU)
    frames = _removal_frames([textured(64, 96, 3)], [box(64, 96, 10, 60, 10, 30)])
    if memory == "nonsense":
        with pytest.raises(ValueError, match="align must be one of"):
            list(engine.stream(frames, memory=memory))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the memory is kept: nothing to warn about
        assert len(list(engine.stream(frames, memory=memory))) == 1
