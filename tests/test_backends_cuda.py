"""The GPU backends and device frames against the CPU path (skipped without a usable GPU).

torch CUDA graphs against eager torch, the CUDA order recovery against the CPU one, torch CUDA
and CuPy frames through ``Engine.run``, and TensorRT engines where TensorRT is installed.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interorder_rt import _ext
from interorder_rt.backends.agreement import TOLERANCE, fixed_batch, output_view
from interorder_rt.backends.batching import BATCHING
from interorder_rt.backends.select import torch_model
from interorder_rt.completion import DEFAULT_WEIGHTS
from interorder_rt.order_recovery import SHIPPED_WEIGHTS, OrderRecovery
from interorder_rt.synth import generate_scene

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no usable CUDA GPU for torch")
needs_kernels = pytest.mark.skipif(_ext.gpu_count() == 0, reason="interorder_rt._C has no usable CUDA kernels")
WEIGHTS = {"ornet": SHIPPED_WEIGHTS, "mnet": DEFAULT_WEIGHTS}
CUDA = torch.device("cuda")


@pytest.mark.parametrize("kind", ["ornet", "mnet"])
def test_cuda_graphs_equal_eager_torch(kind):
    from interorder_rt.backends.onnx_models import describe
    from interorder_rt.backends.torch_cuda import CudaGraphNet

    model = torch_model(kind, WEIGHTS[kind])
    shape = describe(model)[3]
    with torch.inference_mode():
        eager = {b: model(fixed_batch(kind, shape, b)).numpy() for b in (1, 9, 70)}
    graphs = CudaGraphNet(model, shape, CUDA, BATCHING[kind])
    for batch, expected in eager.items():  # in one bucket, padded, and over the cap
        got = graphs(fixed_batch(kind, shape, batch).to(CUDA)).cpu().numpy()
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


@needs_kernels
def test_cuda_order_recovery_equals_the_cpu_one():
    on_cpu, on_gpu = OrderRecovery(backend="torch"), OrderRecovery(device="cuda")
    assert on_gpu.backend == "torch"
    for seed in range(3):
        modal = generate_scene(seed).modal
        a, b = on_cpu(modal, amodal=True), on_gpu(torch.from_numpy(modal).cuda(), amodal=True)
        np.testing.assert_array_equal(a.order, b.order)
        assert (a.amodal != b.amodal).sum() <= 4


def _engine_and_frame(device: str):
    from interorder_rt.engine import Engine
    from interorder_rt.synth import make_transfer_pair

    pair = make_transfer_pair(0, setting="persons", height=256, width=256)
    engine = Engine(device=device)
    src = pair.source
    engine.set_source(src.image, keypoints=src.instances[pair.source_index].keypoints, masks=src.modal,
                      index=pair.source_index)
    ref, y = pair.reference, pair.reference_index
    return engine, ref, y


@needs_kernels
def test_torch_cuda_frame_in_torch_cuda_image_out():
    engine, ref, y = _engine_and_frame("cuda")
    cpu_engine, _, _ = _engine_and_frame("cpu")
    keypoints = ref.instances[y].keypoints
    image, masks = torch.from_numpy(ref.image).cuda(), torch.from_numpy(ref.modal).cuda()
    result = engine.run(image=image, masks=masks, target=y, keypoints=keypoints)
    assert isinstance(result.image, torch.Tensor) and result.image.device == image.device
    expected = cpu_engine.run(image=ref.image, masks=ref.modal, target=y, keypoints=keypoints)
    np.testing.assert_array_equal(result.order.order, expected.order.order)
    # Same order; pixels may differ where float rounding moved an amodal-mask pixel or a fill value.
    assert np.abs(result.image.cpu().numpy().astype(int) - expected.image).mean() < 0.5


@needs_kernels
def test_cupy_frame_in_cupy_image_out():
    cupy = pytest.importorskip("cupy")
    from interorder_rt.ops import MaskSet

    engine, ref, y = _engine_and_frame("cuda")
    image, masks = cupy.asarray(ref.image), cupy.asarray(ref.modal)
    assert MaskSet(masks).backend == "cuda"  # packed on the GPU, from the CuPy memory
    result = engine.run(image=image, masks=masks, target=y, keypoints=ref.instances[y].keypoints)
    assert isinstance(result.image, cupy.ndarray) and result.image.shape == ref.image.shape


class _OnStream:
    """A CUDA array that names ``stream`` in its ``__cuda_array_interface__``, as another producer would."""

    def __init__(self, array, stream: int) -> None:
        self.__cuda_array_interface__ = {**array.__cuda_array_interface__, "stream": stream}


def test_a_cuda_array_is_read_after_the_stream_its_producer_names():
    cupy = pytest.importorskip("cupy")
    from interorder_rt.backends.device_arrays import as_tensor

    expected = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    on_default = cupy.asarray(expected)
    assert on_default.__cuda_array_interface__["stream"] == 1  # CUDA's legacy default stream
    own = cupy.cuda.Stream(non_blocking=True)
    with own:  # CuPy names its current stream: a cudaStream_t
        on_own = cupy.asarray(expected) + 0
        assert on_own.__cuda_array_interface__["stream"] == own.ptr
        read_on_own = as_tensor(on_own, CUDA)
    for tensor in (as_tensor(on_default, CUDA), read_on_own, as_tensor(_OnStream(on_default, 2), CUDA),
                   as_tensor(_OnStream(on_default, None), CUDA)):
        np.testing.assert_array_equal(tensor.cpu().numpy(), expected)


@pytest.mark.parametrize("kind", ["ornet", "mnet"])
@pytest.mark.parametrize("precision", ["fp32", "fp16"])
def test_tensorrt_engine_matches_torch_and_is_cached(kind, precision, tmp_path):
    pytest.importorskip("tensorrt")
    from interorder_rt.backends import onnx_models
    from interorder_rt.backends.engine_cache import EngineCache
    from interorder_rt.backends.tensorrt import TensorRTNet
    from interorder_rt.backends.torch_eager import TorchNet

    model = torch_model(kind, WEIGHTS[kind])
    shape = onnx_models.describe(model)[3]
    onnx = onnx_models.to_onnx(model, precision)
    reference = TorchNet(model, torch.device("cpu"))
    cache = EngineCache(tmp_path)
    net = TensorRTNet(kind, onnx, precision, shape, reference, CUDA, BATCHING[kind], cache)
    assert net.plan_path.is_file()
    x = fixed_batch(kind, shape, 70, seed=1)
    got = output_view(kind, net(x.cuda()))
    expected = output_view(kind, reference(x))
    assert np.abs(got - expected).max() <= TOLERANCE[precision]
    again = TensorRTNet(kind, onnx, precision, shape, reference, CUDA, BATCHING[kind], cache)
    assert again.plan_path == net.plan_path
