"""TensorRT engines for ORNet and MNet (TensorRT 10 and 11 Python API), run on torch CUDA tensors.

Build: the ONNX model (dynamic batch axis, ``onnx_models``) is parsed into a strongly typed
network, so the engine's precision is the ONNX model's own: FP32 from the FP32 file, FP16 from
the FP16 file (TensorRT 11 has no ``BuilderFlag.FP16``; strong typing is the one way that works
on both). One optimization profile spans batch 1 to the crop cap, tuned for the typical batch
(``batching``). The timing cache and the engine are kept on disk (``engine_cache``), keyed by
the ONNX bytes, TensorRT version, GPU, precision and profile.

Before a newly built or loaded engine is used, it runs a fixed batch beside the torch model and
is refused, with the reason, when any output is not finite or differs by more than the
precision's tolerance (``TOLERANCE``): FP16 overflow to NaN or Inf is a known failure of small
UNets.

Run: inputs and outputs are bound by ``set_tensor_address`` to torch tensors' ``data_ptr()`` and
enqueued by ``execute_async_v3`` on torch's current stream. Each thread gets its own execution
contexts (a context is not thread safe), one per batch bucket, each with static input and output
buffers; after one plain enqueue (which lets TensorRT finish its deferred set-up) the enqueue is
captured in a CUDA graph, which every later call of that bucket replays.

This path has not run: TensorRT cannot be installed on the project's machines, and no GPU was
available while it was written. What runs without TensorRT is tested: cache keys and
invalidation, profile and bucket choice, the agreement check and the missing-TensorRT error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

import torch

from interorder_rt.backends import onnx_models
from interorder_rt.backends.agreement import TOLERANCE, disagreement, fixed_batch, output_view
from interorder_rt.backends.batching import Batching, pieces
from interorder_rt.backends.engine_cache import EngineCache, EngineKey

MIN_VERSION = 10
WORKSPACE_BYTES = 1 << 30


class EngineRefused(RuntimeError):
    """A TensorRT engine whose output disagrees with torch's; the message says how."""


def import_tensorrt() -> Any:
    """The ``tensorrt`` module (10 or later); ImportError naming TensorRT when it is missing or old."""
    try:
        import tensorrt
    except (ImportError, OSError) as exc:  # OSError: the bindings are there but their libraries are not
        raise ImportError(
            "the tensorrt backend needs NVIDIA TensorRT >= 10 with its Python bindings "
            f"(pip install tensorrt, on a machine with a CUDA GPU): {exc}"
        ) from exc
    major = int(str(tensorrt.__version__).split(".")[0])
    if major < MIN_VERSION:
        raise ImportError(f"the tensorrt backend needs TensorRT >= {MIN_VERSION}, found {tensorrt.__version__}")
    return tensorrt


@dataclass
class _Bucket:
    """One execution context bound to static buffers for one batch size, and its CUDA graph."""

    context: Any
    input: torch.Tensor
    output: torch.Tensor
    graph: torch.cuda.CUDAGraph


class TensorRTNet:
    """A net run as a TensorRT engine on ``device``: (B, C, S, S) tensor in, float32 CUDA tensor out.

    ``onnx``: the model's ONNX bytes in the wanted precision (``onnx_models.to_onnx``), for crops
    of ``item_shape`` (C, S, S); ``reference``: what the engine is checked against, a CPU tensor
    function (the torch model, or ONNX Runtime on the same ONNX model).
    """

    def __init__(self, kind: str, onnx: bytes, precision: str, item_shape: tuple[int, ...],
                 reference: Callable[[torch.Tensor], torch.Tensor], device: torch.device, batching: Batching,
                 cache: EngineCache | None = None) -> None:
        self.trt = import_tensorrt()
        if device.type != "cuda" or not torch.cuda.is_available():
            raise RuntimeError(f"the tensorrt backend needs a usable CUDA device, got {device}")
        self.kind, self.precision, self.batching = kind, precision, batching
        self.device = torch.device("cuda", device.index if device.index is not None else torch.cuda.current_device())
        self.item_shape = tuple(int(v) for v in item_shape)
        self.logger = self.trt.Logger(self.trt.Logger.WARNING)
        self.cache = cache or EngineCache()
        self.key = EngineKey.for_model(onnx, str(self.trt.__version__), *self._gpu(), precision, batching.profile())
        self.plan_path = self.cache.engine_path(kind, self.key)
        self.runtime = self.trt.Runtime(self.logger)  # must outlive the engine
        with torch.cuda.device(self.device):
            blob, built = self.cache.load_or_build(kind, self.key, lambda: self._build(onnx))
            self.engine = self.runtime.deserialize_cuda_engine(blob)
            if self.engine is None and not built:  # a cached file TensorRT cannot read: build anew
                self.engine = self.runtime.deserialize_cuda_engine(self.cache.store(kind, self.key, self._build(onnx)))
        if self.engine is None:
            raise RuntimeError(f"TensorRT could not deserialize the {kind} engine it built")
        self.input_dtype = self._torch_dtype(onnx_models.INPUT)
        self.output_dtype = self._torch_dtype(onnx_models.OUTPUT)
        self._local = threading.local()
        self._verify(reference)

    def _gpu(self) -> tuple[str, str]:
        props = torch.cuda.get_device_properties(self.device)
        return props.name, f"{props.major}.{props.minor}"

    def _build(self, onnx: bytes) -> bytes:
        trt = self.trt
        builder = trt.Builder(self.logger)
        network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
        parser = trt.OnnxParser(network, self.logger)
        if not parser.parse(onnx):
            errors = "; ".join(str(parser.get_error(k)) for k in range(parser.num_errors))
            raise RuntimeError(f"TensorRT could not parse the {self.kind} ONNX model: {errors}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
        profile = builder.create_optimization_profile()
        profile.set_shape(onnx_models.INPUT, *self.key.profile.shapes(self.item_shape))
        config.add_optimization_profile(profile)
        timing = config.create_timing_cache(self.cache.read_timing_cache(self.key))
        config.set_timing_cache(timing, False)  # False: a mismatching cache is an error, not ignored
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise RuntimeError(f"TensorRT failed to build the {self.kind} engine (see its log above)")
        self.cache.write_timing_cache(self.key, bytes(memoryview(config.get_timing_cache().serialize())))
        return bytes(memoryview(serialized))

    def _torch_dtype(self, name: str) -> torch.dtype:
        dtypes = {self.trt.DataType.FLOAT: torch.float32, self.trt.DataType.HALF: torch.float16}
        dtype = self.engine.get_tensor_dtype(name)
        if dtype not in dtypes:
            raise RuntimeError(f"the {self.kind} engine's {name} is {dtype}, expected float or half")
        return dtypes[dtype]

    def _verify(self, reference: Callable[[torch.Tensor], torch.Tensor]) -> None:
        x = fixed_batch(self.kind, self.item_shape, self.key.profile.opt)
        with torch.inference_mode():
            expected = output_view(self.kind, reference(x))
        got = output_view(self.kind, self(x))
        reason = disagreement(expected, got, TOLERANCE[self.precision])
        if reason is not None:
            self.cache.discard(self.kind, self.key)
            raise EngineRefused(f"refusing the {self.precision} TensorRT {self.kind} engine: {reason}; "
                                "use backend='torch' or another precision")

    def _bucket(self, size: int) -> _Bucket:
        """This thread's context for batch ``size``, captured on first use."""
        buckets = self._local.__dict__.setdefault("buckets", {})
        if size not in buckets:
            buckets[size] = self._capture(size)
        return buckets[size]

    def _capture(self, size: int) -> _Bucket:
        context = self.engine.create_execution_context()
        x = torch.zeros((size, *self.item_shape), dtype=self.input_dtype, device=self.device)
        context.set_input_shape(onnx_models.INPUT, tuple(x.shape))
        y = torch.empty(tuple(context.get_tensor_shape(onnx_models.OUTPUT)), dtype=self.output_dtype, device=self.device)
        context.set_tensor_address(onnx_models.INPUT, x.data_ptr())
        context.set_tensor_address(onnx_models.OUTPUT, y.data_ptr())
        stream = torch.cuda.Stream(self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream):
            self._enqueue(context, stream)  # the plain enqueue TensorRT wants before a capture
        torch.cuda.current_stream(self.device).wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        # thread_local: other threads may run their own contexts while this one captures.
        with torch.cuda.graph(graph, stream=stream, capture_error_mode="thread_local"):
            self._enqueue(context, stream)
        return _Bucket(context, x, y, graph)

    def _enqueue(self, context: Any, stream: torch.cuda.Stream) -> None:
        if not context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError(f"TensorRT failed to enqueue the {self.kind} engine")

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, self.input_dtype, non_blocking=True)
        out = []
        with torch.cuda.device(self.device):
            for start, stop, size in pieces(len(x), self.batching.buckets):
                bucket = self._bucket(size)
                bucket.input[: stop - start].copy_(x[start:stop])
                bucket.graph.replay()
                out.append(bucket.output[: stop - start].float())
        if not out:
            shape = (0, *self.item_shape[1:]) if self.kind == "ornet" else (0, 3, *self.item_shape[1:])
            return torch.empty(shape, device=self.device)
        return torch.cat(out)  # a copy: the static output buffers are overwritten by the next call
