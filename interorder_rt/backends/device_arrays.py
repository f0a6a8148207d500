"""Frames whose arrays live on the GPU: torch CUDA tensors, CuPy arrays, any CUDA array.

``Engine(device="cuda")`` keeps a frame on the GPU from input to output (``backends.device_engine``
lists each stage and the few that cross to the host): it reads torch and CuPy frames in place
(:func:`as_tensor`) and hands the merged image back in the input's kind and on its device
(:func:`like_tensor`: a torch tensor for torch, a CuPy view of the same memory for CuPy). That path
is tested on CPU tensors, and on a GPU where there is one (``build_info()["gpu_paths_run"]``).
The host path (``Engine(device="cpu")``) copies a device frame to the host once (:func:`to_host`)
and hands its image back with :func:`like`.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from interorder_rt.ops.inputs import is_device


def _torch(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


def _is_cupy(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "cupy"


def to_host(obj: Any) -> Any:
    """A host (NumPy) copy of a CUDA array; anything else is returned as it is.

    torch CUDA tensors and CuPy arrays copy themselves; other ``__cuda_array_interface__`` or
    CUDA DLPack arrays are read through torch (TypeError naming the need when it cannot).
    """
    if not is_device(obj):
        return obj
    if _torch(obj):
        return obj.detach().cpu().numpy()
    if _is_cupy(obj):
        return obj.get()
    return _torch_view(obj).cpu().numpy()


def _torch_view(obj: Any) -> Any:
    """A torch tensor sharing the memory of a CUDA array (``__cuda_array_interface__`` or DLPack)."""
    try:
        import torch
    except ImportError as exc:
        raise TypeError(f"reading a CUDA {type(obj).__name__} needs torch or CuPy") from exc
    if hasattr(obj, "__cuda_array_interface__"):
        return torch.as_tensor(obj, device="cuda")
    return torch.from_dlpack(obj)


def like(output: np.ndarray, original: Any) -> Any:
    """``output`` (a host array) in the kind and on the device of ``original``.

    A torch tensor gives a torch tensor on its device, a CuPy array a CuPy array on its device;
    other CUDA arrays get a torch CUDA tensor; host inputs get ``output`` itself.
    """
    if _torch(original):
        import torch

        return torch.from_numpy(np.ascontiguousarray(output)).to(original.device)
    if not is_device(original):
        return output
    if _is_cupy(original):
        import cupy

        with original.device:
            return cupy.asarray(output)
    import torch

    return torch.from_numpy(np.ascontiguousarray(output)).to(_torch_view(original).device)


def as_tensor(array: Any, device: Any) -> Any:
    """A NumPy array, torch tensor or CUDA array as a torch tensor on ``device``, shared where it can be.

    For a ``__cuda_array_interface__`` array made on another stream (the ``stream`` its producer
    names), torch's current stream first waits for that stream, so no kernel reads it early.
    """
    import torch

    device = torch.device(device)
    if not _torch(array) and hasattr(array, "__cuda_array_interface__") and device.type == "cuda":
        _wait_for_producer(array.__cuda_array_interface__.get("stream"), device)
    return torch.as_tensor(array, device=device)


LEGACY_DEFAULT_STREAM, PER_THREAD_DEFAULT_STREAM = 1, 2  # what ``__cuda_array_interface__`` v3 calls them


def _wait_for_producer(stream: int | None, device: Any) -> None:
    """Make torch's current stream wait for the ``stream`` a ``__cuda_array_interface__`` names:
    None (no wait needed), CUDA's legacy default stream (1: CuPy's default, torch's default
    stream), its per-thread default stream (2: the device is synchronised, torch has no handle
    for it) or a ``cudaStream_t``."""
    import torch

    if not stream:
        return
    if stream == LEGACY_DEFAULT_STREAM:
        producer = torch.cuda.default_stream(device)
    elif stream == PER_THREAD_DEFAULT_STREAM:
        torch.cuda.synchronize(device)
        return
    else:
        producer = torch.cuda.ExternalStream(int(stream), device=device)
    torch.cuda.current_stream(device).wait_stream(producer)


def like_tensor(output: Any, original: Any) -> Any:
    """``output`` (a torch tensor: the device path's image) in the kind and on the device of
    ``original``, without a copy where the kinds share memory.

    A torch tensor stays a tensor (moved to ``original``'s device if it differs), a CuPy array gets
    a CuPy view of the same memory (DLPack), a host array a NumPy copy; other CUDA arrays the
    tensor itself.
    """
    if _torch(original):
        return output.to(original.device)
    if _is_cupy(original):
        import cupy

        return cupy.from_dlpack(output)
    if not is_device(original):
        return output.cpu().numpy()
    return output


def count_set(array: Any) -> int:
    """The number of set (nonzero) elements of a NumPy array or torch tensor (on any device)."""
    return int(array.count_nonzero()) if _torch(array) else int(np.count_nonzero(array))


def copy_of(array: Any) -> Any:
    """A copy of a NumPy array or torch tensor, on the same device."""
    return array.clone() if _torch(array) else array.copy()


def zeros_like(array: Any) -> Any:
    """Zeros shaped like a NumPy array or torch tensor, of its dtype, on the same device (on the
    host ``np.zeros``: calloc'd, about half the cost of ``np.zeros_like``'s fill on a frame-sized stack)."""
    return array.new_zeros(array.shape) if _torch(array) else np.zeros(array.shape, array.dtype)


def joined(parts: list[Any], axis: int) -> Any:
    """NumPy arrays, or torch tensors on one device, joined along ``axis`` (on that device)."""
    if _torch(parts[0]):
        import torch

        return torch.cat(parts, dim=axis)
    return np.concatenate(parts, axis=axis)
