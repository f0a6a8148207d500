"""ORNet and MNet as ONNX files: what ``interorder export`` writes and the runtime reads back.

The graph has one input ``x`` (B, C, S, S) and one output ``y``; dimension 0 is the dynamic
``batch`` axis of both, everything else is fixed by the model's settings (ORNet: C = 2, or 5 with
RGB, ``y`` is (B, S, S) mask logits; MNet: C = 8, ``y`` is (B, 3, S, S) RGB in [0, 1]). Opset
``OPSET``. The FP32 model takes and gives float32; the FP16 one is the same net with every
weight and activation in float16, ``x`` and ``y`` included (the form TensorRT builds a strongly
typed FP16 engine from). These are the shapes Triton's ``onnxruntime_onnx`` platform serves as
they are.

The model settings travel in the file as ONNX metadata (``metadata_props``), so a file is
self-describing: ``interorder.model`` ("ornet" or "mnet"), ``interorder.format`` (the checkpoint
format tag of the weights), ``interorder.config`` (the settings as JSON), ``interorder.precision``
("fp32" or "fp16") and ``interorder.opset``.
"""

from __future__ import annotations

import copy
import io
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

OPSET = 17
INPUT, OUTPUT = "x", "y"
PRECISIONS = ("fp32", "fp16")
_DTYPES = {"fp32": torch.float32, "fp16": torch.float16}
_PREFIX = "interorder."


@dataclass(frozen=True)
class OnnxNet:
    """An ONNX model file's bytes and what its metadata says about them."""

    kind: str  # "ornet" or "mnet"
    format: str  # checkpoint format tag, e.g. "interorder_rt.ornet/1"
    config: dict[str, Any]
    precision: str
    data: bytes


def input_shape(kind: str, config: Any) -> tuple[int, int, int]:
    """The (C, S, S) input of one crop of an ORNet (``ORNetConfig``) or MNet (``MNetConfig``)."""
    if kind == "ornet":
        return config.in_channels, config.size, config.size
    from interorder_rt.models.mnet import IN_CHANNELS

    return IN_CHANNELS, config.crop_size, config.crop_size


def describe(model: nn.Module) -> tuple[str, str, dict[str, Any], tuple[int, int, int]]:
    """``(kind, format tag, settings, (C, S, S) input shape)`` of an ORNet or MNet."""
    from interorder_rt.models import mnet, ornet

    if isinstance(model, ornet.ORNet):
        return "ornet", ornet.CHECKPOINT_FORMAT, model.config.to_dict(), input_shape("ornet", model.config)
    if isinstance(model, mnet.MNet):
        return "mnet", mnet.CHECKPOINT_FORMAT, asdict(model.config), input_shape("mnet", model.config)
    raise TypeError(f"expected an ORNet or MNet, got {type(model).__name__}")


def example_input(model: nn.Module, batch: int = 1, precision: str = "fp32") -> torch.Tensor:
    """A zero input batch of the model's shape and the precision's dtype."""
    return torch.zeros(batch, *describe(model)[3], dtype=_DTYPES[_check_precision(precision)])


def _check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def trace_to_onnx(model: nn.Module, example: torch.Tensor, opset: int = OPSET) -> bytes:
    """``model`` (eval mode) as ONNX bytes, input ``x``, output ``y``, dynamic batch axis."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of one that needs onnxscript; it is
        # what runs without it, and it handles these plain convolutional nets fully.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model, (example,), buffer, dynamo=False, opset_version=opset, input_names=[INPUT],
            output_names=[OUTPUT], dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}},
        )
    return buffer.getvalue()


def to_onnx(model: nn.Module, precision: str = "fp32", opset: int = OPSET) -> bytes:
    """An ORNet or MNet (eval mode, batch norm already folded where wanted) as a self-describing ONNX file."""
    import onnx

    kind, tag, config, _ = describe(model)
    net = copy.deepcopy(model).eval().to("cpu", _DTYPES[_check_precision(precision)])
    graph = onnx.load_from_string(trace_to_onnx(net, example_input(net, 1, precision), opset))
    meta = {"model": kind, "format": tag, "config": json.dumps(config, sort_keys=True), "precision": precision,
            "opset": str(opset)}
    onnx.helper.set_model_props(graph, {_PREFIX + key: value for key, value in meta.items()})
    return graph.SerializeToString()


def is_onnx_path(path: str | Path | None) -> bool:
    """Whether ``path`` names an ONNX model file (by its suffix)."""
    return path is not None and Path(path).suffix.lower() == ".onnx"


def read_onnx(path: str | Path, kind: str) -> OnnxNet:
    """Load an exported ONNX file of ``kind`` ("ornet" or "mnet") and its metadata.

    FileNotFoundError naming ``path`` when it is missing; ValueError when the file is not a
    readable ONNX model, or not one written by ``interorder export`` for ``kind``.
    """
    import onnx

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{kind} ONNX model not found: {path}")
    data = path.read_bytes()
    try:
        graph = onnx.load_from_string(data)
    except Exception as exc:  # protobuf raises its own DecodeError, among others
        raise ValueError(f"{path} is not a readable ONNX model: {exc}") from exc
    meta = {p.key[len(_PREFIX):]: p.value for p in graph.metadata_props if p.key.startswith(_PREFIX)}
    missing = [key for key in ("model", "format", "config", "precision") if key not in meta]
    if missing:
        raise ValueError(f"{path} has no interorder metadata ({', '.join(missing)} missing): "
                         "write it with `interorder export`")
    if meta["model"] != kind:
        raise ValueError(f"{path} holds a {meta['model']} model, expected {kind}")
    try:
        config = json.loads(meta["config"])
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: its interorder.config metadata is not JSON: {exc}") from exc
    return OnnxNet(kind=kind, format=meta["format"], config=config, precision=_check_precision(meta["precision"]),
                   data=data)
