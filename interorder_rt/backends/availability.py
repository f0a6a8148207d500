"""Which GPU backends this machine could run, and which GPU paths have ever run (for ``build_info``).

Probing never imports TensorRT or CuPy (either may be broken or slow to load): it reads their
installed versions. torch is asked whether it sees a GPU only when torch is already imported.
"""

from __future__ import annotations

import importlib.metadata
import sys
from typing import Any

# What of the GPU half has run on a GPU in this project's tests, and where that is recorded. Kept
# by hand: each entry turns True with the `benchmarks/gpu_check.sh` log that shows it passing
# (docs/gpu_runs/2026-12-04-h200/gpu_check.log: an H200, every CUDA test passing).
GPU_PATHS_RUN = {
    "cuda_kernels": True,  # tests/test_ops_cuda.py and the kernels' other CUDA tests
    "torch_cuda_graphs": True,  # tests/test_backends_cuda.py
    "tensorrt": False,  # never: TensorRT is not installed on the GPU machines lent so far
    "cupy_frames": True,  # tests/test_backends_cuda.py, tests/test_device_path_cuda.py
    "device_path": True,  # tests/test_device_path_cuda.py (on CPU tensors: tests/test_device_path.py)
}

# Where each stage of Engine(device="cuda").run and .stream works on the frame (backends.device_engine):
# "device" (per-pixel work on the GPU, small results to the host), "host" (the frame's region crosses)
# or "off" (not done on the device path yet).
DEVICE_PATH_STAGES = {
    "frame_checks": "device",
    "mask_packing_crops_ornet_growth": "device",
    "amodal_paste": "device",  # each 64 x 64 completion comes to the host, its crop box goes back
    "joint_evidence_overlaps_margins_plan": "device",
    "pose_raster": "device",  # the mesh placement (vertices, box) is planned on the host
    "exemplar_fill": "device",  # background, and instances with instance="exemplar"
    "mnet_completion": "device",  # instance completion, MNet's or its classical fill alone (instance="telea",
    # the default): crops and the net on the device (backends.device_mnet), the crops' Telea fill on the
    # host (a crop's round trip; no CUDA twin); MNet or Telea as a background filler (not the default) crosses
    "compositing": "device",
    "rgb_ornet_crops": "device",  # only for an ORNet trained with RGB input (the shipped one reads no image)
    "stream_tracking_order_reuse": "device",  # mask crops kept as tensors; ids, boxes, counts to the host
    "stream_memories": "device",  # background and instance memory, fill cache (backends.device_memory); the
    # homography is estimated on the host, on a grey copy of at most 640 pixels a side
}


def _version(*distributions: str) -> str | None:
    for name in distributions:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def gpu_backends() -> dict[str, Any]:
    """``tensorrt_version``, ``cupy_version``, ``onnxruntime_version`` (None when not installed),
    ``torch_cuda`` (torch sees a GPU; None when torch is not imported yet), ``gpu_paths_run`` and
    ``device_path_stages`` (where each stage of the Engine's device path works)."""
    torch = sys.modules.get("torch")
    return {
        "tensorrt_version": _version("tensorrt", "tensorrt-cu12", "tensorrt-cu13"),
        "cupy_version": _version("cupy", "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x"),
        "onnxruntime_version": _version("onnxruntime", "onnxruntime-gpu"),
        "torch_cuda": bool(torch.cuda.is_available()) if torch is not None else None,
        "gpu_paths_run": dict(GPU_PATHS_RUN),
        "device_path_stages": dict(DEVICE_PATH_STAGES),
    }
