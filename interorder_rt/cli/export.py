"""``interorder export``: ORNet and MNet as ONNX models (FP32 and FP16) and TensorRT engines.

Writes ``ornet.onnx``, ``ornet.fp16.onnx``, ``mnet.onnx`` and ``mnet.fp16.onnx`` (input ``x``
(batch, C, S, S), output ``y``, the batch axis dynamic, the model settings as ONNX metadata; see
``interorder_rt.backends.onnx_models``), and with TensorRT and a GPU, ``ornet.fp32.plan`` etc.
(one optimization profile, batch 1 to the crop cap). ``models.json`` lists every file with its
shapes, sha256 and, for the FP16 models, how far their output is from torch's FP32 one on a fixed
batch. Triton serves the ``.onnx`` files on its ``onnxruntime_onnx`` platform and the ``.plan``
files on ``tensorrt_plan`` as they are; ``OrderRecovery(weights="ornet.onnx")`` and
``ContentCompletion(weights="mnet.onnx")`` take them back.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("export", help="write ORNet and MNet as ONNX models and TensorRT engines",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--out", default="interorder_export", metavar="DIR",
                        help="output folder (default interorder_export)")
    parser.add_argument("--ornet", metavar="PT", help="ORNet checkpoint (default: the shipped weights)")
    parser.add_argument("--mnet", metavar="PT", help="MNet checkpoint (default: the shipped weights)")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")
    parser.add_argument("--tensorrt", choices=("auto", "on", "off"), default="auto",
                        help="build TensorRT engines: auto (when TensorRT and a GPU are there), on (required), off")
    parser.add_argument("--engine-device", default="cuda", metavar="DEVICE",
                        help="CUDA device the TensorRT engines are built for (default cuda)")
    parser.set_defaults(run=run)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tensorrt_unavailable(device: str) -> str | None:
    """Why engines cannot be built here, or None."""
    import torch

    from interorder_rt.backends.tensorrt import import_tensorrt

    try:
        import_tensorrt()
    except ImportError as exc:
        return str(exc)
    if not torch.cuda.is_available():
        return "no usable CUDA GPU"
    if torch.device(device).type != "cuda":
        return f"--engine-device {device} is not a CUDA device"
    return None


def _fp16_error(kind: str, model, fp16: bytes) -> float:
    """Max |FP16 ONNX in ONNX Runtime - torch FP32| on the fixed batch, in output units."""
    import numpy as np
    import torch

    from interorder_rt.backends import onnx_models, onnx_runtime
    from interorder_rt.backends.agreement import fixed_batch, output_view

    x = fixed_batch(kind, onnx_models.describe(model)[3], 16)
    with torch.inference_mode():
        expected = output_view(kind, model(x))
    runtime = onnx_runtime.OnnxRuntimeModel.from_onnx(fp16, onnx_runtime.default_threads())
    return float(np.abs(output_view(kind, torch.from_numpy(runtime(x.numpy()))) - expected).max())


def _engine(kind: str, model, onnx: bytes, precision: str, device: str, out: Path) -> Path:
    """Build (or take from the cache) the verified engine and copy it to ``out``."""
    import torch

    from interorder_rt.backends import onnx_models
    from interorder_rt.backends.batching import BATCHING
    from interorder_rt.backends.tensorrt import TensorRTNet
    from interorder_rt.backends.torch_eager import TorchNet

    shape = onnx_models.describe(model)[3]
    net = TensorRTNet(kind, onnx, precision, shape, TorchNet(model, torch.device("cpu")), torch.device(device),
                      BATCHING[kind])
    target = out / f"{kind}.{precision}.plan"
    shutil.copyfile(net.plan_path, target)
    return target


def run(args: argparse.Namespace) -> int:
    import torch

    from interorder_rt.backends import onnx_models
    from interorder_rt.backends.batching import BATCHING
    from interorder_rt.backends.select import torch_model
    from interorder_rt.completion import DEFAULT_WEIGHTS
    from interorder_rt.io.atomic import atomic_write_bytes
    from interorder_rt.order_recovery import SHIPPED_WEIGHTS

    out = Path(args.out)
    opset = args.opset if args.opset is not None else onnx_models.OPSET
    skip_engines = _tensorrt_unavailable(args.engine_device) if args.tensorrt != "off" else "--tensorrt off"
    if args.tensorrt == "on" and skip_engines:
        raise ValueError(f"--tensorrt on, but TensorRT engines cannot be built here: {skip_engines}")
    files = []
    for kind, weights in (("ornet", args.ornet or SHIPPED_WEIGHTS), ("mnet", args.mnet or DEFAULT_WEIGHTS)):
        model = torch_model(kind, Path(weights))
        _, tag, config, shape = onnx_models.describe(model)
        with torch.inference_mode():
            out_shape = list(model(onnx_models.example_input(model)).shape[1:])
        batching = BATCHING[kind]
        for precision in onnx_models.PRECISIONS:
            data = onnx_models.to_onnx(model, precision, opset)
            path = out / (f"{kind}.onnx" if precision == "fp32" else f"{kind}.{precision}.onnx")
            atomic_write_bytes(path, data)
            entry = {"file": path.name, "model": kind, "format": tag, "precision": precision, "opset": opset,
                     "input": {"name": onnx_models.INPUT, "shape": ["batch", *shape]},
                     "output": {"name": onnx_models.OUTPUT, "shape": ["batch", *out_shape]}, "config": config, "weights": str(weights)}
            if precision == "fp16":
                entry["max_abs_error_vs_torch_fp32"] = _fp16_error(kind, model, data)
            files.append(entry)
            if not skip_engines:
                plan = _engine(kind, model, data, precision, args.engine_device, out)
                engine = {key: value for key, value in entry.items() if key != "max_abs_error_vs_torch_fp32"}
                files.append(engine | {"file": plan.name, "profile": vars(batching.profile())})
    for entry in files:
        entry["sha256"] = _sha256(out / entry["file"])
        extra = f", {entry['max_abs_error_vs_torch_fp32']:.2g} from torch fp32" if "max_abs_error_vs_torch_fp32" in entry else ""
        print(f"wrote {out / entry['file']} ({entry['model']}, {entry['precision']}{extra})")
    atomic_write_bytes(out / "models.json", json.dumps(files, indent=2).encode())
    if skip_engines:
        print(f"TensorRT engines not built: {skip_engines}")
    print(f"wrote {out / 'models.json'}")
    return 0
