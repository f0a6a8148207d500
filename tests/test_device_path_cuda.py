"""The Engine's device path on a GPU (skipped without one): the kernels it calls against their CPU
twins, the whole path against the host path, its stream, ``Engine.stream`` of CUDA frames (its
memories kept on the device), the memories against their CPU twins, and a CuPy frame with no host
copy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interorder_rt import _ext
from interorder_rt.backends import device_kernels

pytestmark = pytest.mark.skipif(not torch.cuda.is_available() or _ext.gpu_count() == 0,
                                reason="no usable CUDA GPU (torch and the CUDA kernels of interorder_rt._C)")
CUDA = torch.device("cuda")
SIZE = 256


def _fill_options(size: int) -> dict:
    return dict(patch_size=size, iterations=4, finest_iterations=0, coarsest_side=40, local_radius=8, seed=0)


def test_kernels_on_cuda_tensors_equal_their_cpu_twins():
    rng = np.random.default_rng(0)
    image = torch.from_numpy(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8))
    hole = torch.zeros(60, 80, dtype=torch.bool)
    hole[20:40, 30:50] = True
    source = ~hole
    cpu, gpu = image.clone(), image.cuda()
    assert device_kernels.patchmatch_fill(cpu, hole, source, **_fill_options(7))
    assert device_kernels.patchmatch_fill(gpu, hole.cuda(), source.cuda(), **_fill_options(7))
    assert torch.equal(gpu.cpu(), cpu)
    masks = [torch.from_numpy(rng.random((60, 80)) > 0.5) for _ in range(2)]
    alphas = [None, torch.from_numpy(rng.integers(0, 256, (60, 80), dtype=np.uint8))]
    rgbs = [torch.from_numpy(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)) for _ in range(2)]
    boxes = [(0, 0, 80, 60), (5, 5, 70, 50)]
    out = {}
    for device in ("cpu", "cuda"):
        canvas, owner = image.clone().to(device), torch.full((60, 80), -1, dtype=torch.int32, device=device)
        device_kernels.paint_layers(canvas, owner, [r.to(device) for r in rgbs], [m.to(device) for m in masks],
                                    [None if a is None else a.to(device) for a in alphas], boxes)
        out[device] = (canvas.cpu(), owner.cpu())
    assert torch.equal(out["cpu"][0], out["cuda"][0]) and torch.equal(out["cpu"][1], out["cuda"][1])


def _pair():
    from interorder_rt.synth import make_transfer_pair

    return make_transfer_pair(0, setting="persons", height=SIZE, width=SIZE)


def _engine(device: str, pair):
    from interorder_rt import Engine
    from interorder_rt.completion import ContentCompletion

    # Exemplar fills on both jobs: every stage after the order is then exact on the GPU.
    engine = Engine(device=device, completion=ContentCompletion(device=device, background="exemplar",
                                                                instance="exemplar"))
    src = pair.source
    engine.set_source(src.image, keypoints=src.instances[pair.source_index].keypoints, masks=src.modal,
                      index=pair.source_index)
    return engine


@pytest.mark.parametrize("seed", range(12))
def test_the_outline_kernel_on_cuda_equals_its_cpu_twin(seed):
    from test_outline import scene

    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(1, 200, 2))
    reach = int(rng.integers(0, 9))
    planes = [torch.from_numpy(p) for p in scene(seed, h, w, reach, noise=float(rng.choice([2, 8, 40])))]
    cpu = device_kernels.foreign_outline(*planes, reach)
    gpu = device_kernels.foreign_outline(*(p.cuda() for p in planes), reach)
    assert gpu.device.type == "cuda" and gpu.dtype == torch.bool
    assert torch.equal(gpu.cpu(), cpu)


def test_the_device_path_equals_the_host_path_under_one_order():
    pair = _pair()
    ref, y = pair.reference, pair.reference_index
    keypoints = ref.instances[y].keypoints
    host = _engine("cpu", pair).run(image=ref.image, masks=ref.modal, target=y, keypoints=keypoints)
    engine = _engine("cuda", pair)
    assert engine._device_path is not None
    image, masks = torch.from_numpy(ref.image).cuda(), torch.from_numpy(ref.modal).cuda()
    device = engine.run(image=image, masks=masks, target=y, keypoints=keypoints, order=host.order)
    assert isinstance(device.image, torch.Tensor) and device.image.device == image.device
    assert torch.equal(device.image.cpu(), torch.from_numpy(host.image))
    assert torch.equal(device.person_masks.cpu(), torch.from_numpy(host.person_masks))
    recovered = engine.run(image=image, masks=masks, target=y, keypoints=keypoints)
    np.testing.assert_array_equal(recovered.order.order, host.order.order)


def test_every_kernel_of_the_device_path_runs_on_the_engines_stream(monkeypatch):
    pair = _pair()
    engine = _engine("cuda", pair)
    streams = []
    original = device_kernels._stream

    def spy(tensor):
        streams.append(torch.cuda.current_stream(tensor.device))
        return original(tensor)

    monkeypatch.setattr(device_kernels, "_stream", spy)
    ref, y = pair.reference, pair.reference_index
    engine.run(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints)
    assert streams and all(s == engine._stream for s in streams)
    assert engine._stream != torch.cuda.default_stream(CUDA)


def _refuse_frame_sized_copies(monkeypatch, frame_pixels: int) -> None:
    """``Tensor.cpu`` of a CUDA tensor as large as a frame plane fails the test."""
    cpu = torch.Tensor.cpu

    def small_cpu(tensor, *args, **kwargs):
        if tensor.is_cuda and tensor.numel() >= frame_pixels:
            raise AssertionError(f"a frame-sized tensor {tuple(tensor.shape)} was copied to the host")
        return cpu(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "cpu", small_cpu)


def test_a_stream_of_cuda_frames_stays_on_the_device_and_orders_as_the_host(monkeypatch):
    pair = _pair()
    ref, y = pair.reference, pair.reference_index
    kp = ref.instances[y].keypoints
    frames = [(ref.image, ref.modal, kp), (ref.image, ref.modal, kp),
              (np.roll(ref.image, 3, axis=1), np.roll(ref.modal, 3, axis=2), kp + [3, 0])]
    host = list(_engine("cpu", pair).stream(
        [dict(image=i, masks=m, target=y, keypoints=k) for i, m, k in frames]))
    cuda_frames = [dict(image=torch.from_numpy(np.ascontiguousarray(i)).cuda(),
                        masks=torch.from_numpy(np.ascontiguousarray(m)).cuda(), target=y, keypoints=k)
                   for i, m, k in frames]
    engine = _engine("cuda", pair)
    _refuse_frame_sized_copies(monkeypatch, SIZE * SIZE)
    device = list(engine.stream(cuda_frames))  # memory="static" by default: kept on the device
    monkeypatch.undo()
    assert len(device) == len(host)
    for d, h in zip(device, host):
        assert isinstance(d.image, torch.Tensor) and d.image.is_cuda and d.amodal.is_cuda
        assert d.instance_ids == h.instance_ids
        np.testing.assert_array_equal(d.order.order, h.order.order)


def test_a_cupy_frame_comes_back_a_cupy_image_without_a_host_copy(monkeypatch):
    cupy = pytest.importorskip("cupy")
    from interorder_rt.backends import device_arrays

    pair = _pair()
    engine = _engine("cuda", pair)
    ref, y = pair.reference, pair.reference_index
    image, masks = cupy.asarray(ref.image), cupy.asarray(ref.modal)
    frame_pixels = SIZE * SIZE

    def refuse(*args, **kwargs):
        raise AssertionError("the frame was copied to the host")

    monkeypatch.setattr(device_arrays, "to_host", refuse)
    monkeypatch.setattr(cupy.ndarray, "get", refuse)
    monkeypatch.setattr(cupy, "asnumpy", refuse)
    _refuse_frame_sized_copies(monkeypatch, frame_pixels)
    result = engine.run(image=image, masks=masks, target=y, keypoints=ref.instances[y].keypoints)
    assert isinstance(result.image, cupy.ndarray) and result.image.shape == ref.image.shape
    assert result.image.device.id == image.device.id
    monkeypatch.undo()
    host = _engine("cpu", pair).run(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints)
    np.testing.assert_array_equal(result.order.order, host.order.order)


def test_mnet_completion_on_cuda_matches_the_cpu_tensors():
    from interorder_rt.backends import device_mnet
    from interorder_rt.completion import ContentCompletion

    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, (180, 220, 3), dtype=np.uint8)
    visible = np.zeros((2, 180, 220), bool)
    visible[0, 40:90, 50:90], visible[1, 100:150, 0:40] = True, True
    amodal = visible | np.roll(visible, 8, axis=1)
    tensors = [torch.from_numpy(a) for a in (image, visible, amodal)]
    cpu = torch.stack(device_mnet.complete_many(ContentCompletion(instance="mnet"), *tensors))
    gpu = torch.stack(device_mnet.complete_many(ContentCompletion(instance="mnet", device="cuda"),
                                                *(t.to(CUDA) for t in tensors)))
    assert gpu.device.type == "cuda"
    assert (gpu.cpu().to(torch.int16) - cpu.to(torch.int16)).abs().max() <= 4


def test_the_stream_memories_on_cuda_equal_their_cpu_twins():
    from interorder_rt.backends.device_memory import DeviceBackgroundMemory
    from test_device_memory import _pan

    frames, covered, holes = _pan()
    for align in ("static", "homography"):
        cpu, gpu = DeviceBackgroundMemory(align, "cpu"), DeviceBackgroundMemory(align, CUDA)
        for image, person, hole in zip(frames, covered, holes):
            tensors = [torch.from_numpy(a) for a in (image, person, hole)]
            cpu.update(*tensors[:2])
            gpu.update(*(t.to(CUDA) for t in tensors[:2]))
            assert gpu.cuts == cpu.cuts and gpu.canvas.is_cuda
            np.testing.assert_array_equal(gpu._to_canvas, cpu._to_canvas)
            diff = (gpu.canvas.cpu().to(torch.int16) - cpu.canvas.to(torch.int16)).abs()
            assert int(diff.max()) <= 1 and float((diff > 0).float().mean()) <= 1e-3  # the warp's tolerance
            out, rest = cpu.recall(tensors[0], tensors[2])
            g_out, g_rest = gpu.recall(tensors[0].to(CUDA), tensors[2].to(CUDA))
            assert torch.equal(g_rest.cpu(), rest)
            assert int((g_out.cpu().to(torch.int16) - out.to(torch.int16)).abs().max()) <= 1
