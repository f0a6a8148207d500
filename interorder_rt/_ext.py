"""The compiled core ``interorder_rt._C``: loading it, its thread count, and what it offers.

Importing never fails: without the extension (not built) the mask ops run on the NumPy
reference, and without a GPU the CUDA kernels are simply not used. ``build_info()`` says which.
The CPU kernels use ``INTERORDER_NUM_THREADS`` threads when that variable is set, else OpenMP's
default (the machine's cores, or ``OMP_NUM_THREADS``); ``set_num_threads`` changes it later.
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType
from typing import Any

try:
    from interorder_rt import _C
except ImportError as exc:  # not built, or built for another Python
    _C = None
    _LOAD_ERROR: str | None = f"{type(exc).__name__}: {exc}"
else:
    _LOAD_ERROR = None

_THREADS_ENV = "INTERORDER_NUM_THREADS"


def compiled() -> ModuleType | None:
    """The extension module, or None when it is not built."""
    return _C


def cuda_compiled() -> bool:
    """Whether the extension was built with its CUDA kernels."""
    return _C is not None and bool(_C.cuda_compiled)


def gpu_count() -> int:
    """CUDA devices the CUDA kernels can use now; 0 without them or without a GPU."""
    return int(_C.cuda_device_count()) if cuda_compiled() else 0


def require_cuda() -> ModuleType:
    """The extension, when it can run CUDA kernels now; RuntimeError saying why not otherwise."""
    if not cuda_compiled():
        raise RuntimeError("interorder_rt._C was built without CUDA kernels" if _C else "interorder_rt._C is not built")
    if gpu_count() == 0:
        raise RuntimeError("no usable CUDA GPU (no device or no driver)")
    return _C


def num_threads() -> int:
    """Threads the CPU kernels use (1 without the extension)."""
    return int(_C.num_threads()) if _C is not None else 1


def set_num_threads(n: int) -> None:
    """Use ``n`` (>= 1) threads in the CPU kernels from now on."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number of threads must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"number of threads must be >= 1, got {n}")
    if _C is not None:
        _C.set_num_threads(n)


def _architectures(spec: str) -> list[str]:
    """CMake CUDA architectures ("80-real,90") as the code they embed (sm_80, sm_90, compute_90)."""
    out: list[str] = []
    for item in filter(None, spec.split(",")):
        number, _, kind = item.partition("-")
        if kind in ("", "real"):
            out.append(f"sm_{number}")
        if kind in ("", "virtual"):
            out.append(f"compute_{number}")
    return out


def build_info() -> dict[str, Any]:
    """What this build and this machine offer the mask ops.

    Keys: ``extension`` (compiled core importable), ``extension_error`` (why not, else None),
    ``openmp``, ``num_threads``, ``cuda_compiled``, ``cuda_version`` ("13.0" or None),
    ``cuda_architectures`` (embedded SASS/PTX), ``cuda_driver_version``, ``gpu_count``,
    ``gpu_usable``, ``backend`` (what MaskSet uses for host masks: "cpu" or "numpy"); and for
    the nets' GPU backends (``interorder_rt.backends.availability``): ``tensorrt_version``,
    ``cupy_version``, ``onnxruntime_version``, ``torch_cuda``, and ``gpu_paths_run``, which of the
    GPU paths (CUDA kernels, torch CUDA graphs, TensorRT, CuPy frames, the Engine's device path) have
    run on a GPU, and ``device_path_stages``, where each stage of ``Engine(device="cuda")`` works.
    """
    from interorder_rt.backends.availability import gpu_backends

    cuda = cuda_compiled()
    runtime = int(_C.cuda_runtime_version) if cuda else 0
    driver = int(_C.cuda_driver_version()) if cuda else 0
    devices = gpu_count()
    return {
        "extension": _C is not None,
        "extension_error": _LOAD_ERROR,
        "openmp": bool(_C.openmp) if _C is not None else False,
        "num_threads": num_threads(),
        "cuda_compiled": cuda,
        "cuda_version": f"{runtime // 1000}.{runtime % 1000 // 10}" if cuda else None,
        "cuda_architectures": _architectures(_C.cuda_architectures) if cuda else [],
        "cuda_driver_version": f"{driver // 1000}.{driver % 1000 // 10}" if driver else None,
        "gpu_count": devices,
        "gpu_usable": devices > 0,
        "backend": "cpu" if _C is not None else "numpy",
        **gpu_backends(),
    }


def _threads_from_env() -> None:
    value = os.environ.get(_THREADS_ENV)
    if value is None or _C is None:
        return
    try:
        set_num_threads(int(value))
    except (TypeError, ValueError):
        warnings.warn(f"ignoring {_THREADS_ENV}={value!r}: expected an integer >= 1", RuntimeWarning, stacklevel=2)


_threads_from_env()
