"""Which backend runs ORNet or MNet, and loading a net onto it.

Backends: ``torch`` (eager on the CPU; CUDA graphs per batch bucket on a GPU), ``onnxruntime``
(CPU only), ``tensorrt`` (CUDA only) and ``auto``: ONNX Runtime on the CPU when it is installed,
else torch; torch with CUDA graphs on a GPU (TensorRT is taken only when asked for: it has not
run on a GPU yet). Weights are a torch checkpoint (``.pt``) or an ONNX file written by
``interorder export`` (``.onnx``), which runs in ONNX Runtime on the CPU and TensorRT on a GPU.
A TensorRT engine has the precision of its ONNX model: a ``.pt`` checkpoint builds an FP32
engine; pass the exported ``*.fp16.onnx`` for an FP16 one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from interorder_rt.backends import onnx_models, onnx_runtime
from interorder_rt.backends.batching import BATCHING
from interorder_rt.backends.torch_eager import TorchNet

BACKENDS = ("auto", "torch", "onnxruntime", "tensorrt")
Net = Callable[[torch.Tensor], torch.Tensor]


def resolve_backend(backend: str, device: torch.device, onnx_weights: bool = False) -> str:
    """What ``backend`` stands for on ``device`` with these weights; ValueError when it cannot run."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "onnxruntime" and device.type != "cpu":
        raise ValueError(f"the onnxruntime backend runs on the CPU, not on {device}")
    if backend == "tensorrt" and device.type != "cuda":
        raise ValueError(f"the tensorrt backend runs on a CUDA device, not on {device}")
    if backend == "auto":
        if device.type == "cuda":
            return "tensorrt" if onnx_weights else "torch"
        return "onnxruntime" if onnx_weights or onnx_runtime.available() else "torch"
    if backend == "torch" and onnx_weights:
        raise ValueError("ONNX weights run with the onnxruntime or tensorrt backend; torch needs a .pt checkpoint")
    return backend


@dataclass
class LoadedNet:
    """A net ready to run: its settings, the backend that runs it, and the call itself.

    ``run`` takes a (B, C, S, S) float32 tensor (any device) and returns float32 on the net's
    device (the CPU for ONNX Runtime). ``model`` is the torch model, None for ONNX weights.
    """

    kind: str
    config: Any
    backend: str
    model: nn.Module | None
    run: Net

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x)


def torch_model(kind: str, weights: Path) -> nn.Module:
    """The eval-mode torch ORNet (batch norm folded) or MNet of a checkpoint."""
    if kind == "ornet":
        from interorder_rt.models.ornet import fuse_batchnorm, load_ornet

        return fuse_batchnorm(load_ornet(weights))
    from interorder_rt.models.mnet import MNet

    return MNet.from_checkpoint(weights)


def _config(kind: str, settings: dict) -> Any:
    if kind == "ornet":
        from interorder_rt.models.ornet import ORNetConfig

        return ORNetConfig(**settings)
    from interorder_rt.models.mnet import MNetConfig

    return MNetConfig(**settings)


def _on_runtime(onnx: bytes, threads: int) -> Net:
    runtime = onnx_runtime.OnnxRuntimeModel.from_onnx(onnx, threads)
    return lambda x: torch.from_numpy(runtime(x.detach().cpu().numpy()))


def load_net(kind: str, weights: str | Path, device: str | torch.device = "cpu", backend: str = "auto",
             threads: int | None = None) -> LoadedNet:
    """Load ``kind`` ("ornet" or "mnet") from ``weights`` onto the chosen backend.

    ``threads``: CPU threads of ONNX Runtime (None: ``min(4, torch.get_num_threads())``) and of
    torch on the CPU (None: the caller's setting).
    """
    device = torch.device(device)
    onnx_weights = onnx_models.is_onnx_path(weights)
    chosen = resolve_backend(backend, device, onnx_weights)
    cpu_threads = threads if threads is not None else onnx_runtime.default_threads()
    if onnx_weights:
        exported = onnx_models.read_onnx(weights, kind)
        try:
            config = _config(kind, exported.config)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{weights}: its interorder.config metadata does not fit {kind}: {exc}") from exc
        model, onnx, precision = None, exported.data, exported.precision
    else:
        model = torch_model(kind, Path(weights))
        config, precision = model.config, "fp32"
        onnx = onnx_models.to_onnx(model) if chosen in ("onnxruntime", "tensorrt") else b""
    shape = onnx_models.input_shape(kind, config)
    if chosen == "onnxruntime":
        run = _on_runtime(onnx, cpu_threads)
    elif chosen == "tensorrt":
        from interorder_rt.backends.tensorrt import TensorRTNet

        reference = _on_runtime(onnx, cpu_threads) if model is None else TorchNet(model, torch.device("cpu"), threads)
        run = TensorRTNet(kind, onnx, precision, shape, reference, device, BATCHING[kind])
    elif device.type == "cuda":
        from interorder_rt.backends.torch_cuda import CudaGraphNet

        run = CudaGraphNet(model, shape, device, BATCHING[kind])
    else:
        run = TorchNet(model, device, threads)
    return LoadedNet(kind, config, chosen, model, run)
