"""Mask inputs as arrays the kernels take, and device memory for CUDA results.

Host inputs (NumPy, CPU torch tensors, CPU DLPack producers, nested sequences) become NumPy
views without copies; the kernels read any strides. CUDA inputs (torch tensors, objects with
``__cuda_array_interface__``, CUDA DLPack producers through torch) become a ``DeviceArray``:
pointer, shape, byte strides, device and the stream their data is ordered on. Results of CUDA
work are allocated like the input: torch tensors for torch input, else ``_C.DeviceBuffer``
(which exposes ``__cuda_array_interface__``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

MASK_DTYPES = (np.dtype(np.bool_), np.dtype(np.uint8))
_DLPACK_CPU = 1
_DLPACK_CUDA = (2, 13)  # kDLCUDA, kDLCUDAManaged


@dataclass(frozen=True)
class DeviceArray:
    """A CUDA array seen through its pointer; ``owner`` keeps its memory alive."""

    ptr: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # in bytes
    dtype: np.dtype
    device: int
    stream: int  # cudaStream_t handle value (0: default stream)
    owner: Any

    @property
    def is_torch(self) -> bool:
        return _torch_tensor(self.owner)


def _torch_tensor(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


def _check_masks(shape: tuple[int, ...], dtype: np.dtype, name: str, ndim: int) -> None:
    if len(shape) != ndim:
        expected = "(N, H, W)" if ndim == 3 else f"{ndim} dimensions"
        raise ValueError(f"{name} must have shape {expected}, got shape {tuple(shape)}")
    if dtype not in MASK_DTYPES:
        raise TypeError(f"{name} must have dtype bool or uint8 (nonzero = set), got {dtype}")


def is_device(obj: Any) -> bool:
    """Whether ``obj`` holds CUDA memory (torch CUDA tensor, CAI object, CUDA DLPack producer)."""
    if _torch_tensor(obj):
        return obj.is_cuda
    if hasattr(obj, "__cuda_array_interface__"):
        return True
    if hasattr(obj, "__dlpack_device__") and not isinstance(obj, np.ndarray):
        return int(obj.__dlpack_device__()[0]) in _DLPACK_CUDA
    return False


def host_masks(obj: Any, name: str = "masks", ndim: int = 3) -> np.ndarray:
    """Host masks as a NumPy bool/uint8 array of rank ``ndim``, a view of ``obj`` where possible."""
    if _torch_tensor(obj):
        if obj.device.type != "cpu":
            raise TypeError(f"{name} is a torch tensor on {obj.device}; expected a CPU tensor here")
        array = obj.detach().numpy()
    elif isinstance(obj, np.ndarray):
        array = obj
    elif hasattr(obj, "__dlpack_device__") and int(obj.__dlpack_device__()[0]) == _DLPACK_CPU:
        array = np.from_dlpack(obj)
    else:
        array = np.asarray(obj)
    _check_masks(array.shape, array.dtype, name, ndim)
    return array


def device_masks(obj: Any, name: str = "masks", ndim: int = 3) -> DeviceArray:
    """CUDA masks as a ``DeviceArray`` (no copy)."""
    if _torch_tensor(obj):
        return _from_torch(obj.detach(), name, ndim)
    if hasattr(obj, "__cuda_array_interface__"):
        return _from_interface(obj, name, ndim)
    torch = _import_torch(f"{name} is a CUDA DLPack array without __cuda_array_interface__; reading it needs torch")
    return _from_torch(torch.from_dlpack(obj), name, ndim)


def _import_torch(reason: str):
    try:
        import torch
    except ImportError as exc:
        raise TypeError(reason) from exc
    return torch


def _from_torch(tensor: Any, name: str, ndim: int) -> DeviceArray:
    import torch

    dtypes = {torch.bool: np.dtype(np.bool_), torch.uint8: np.dtype(np.uint8)}
    if tensor.dtype not in dtypes:
        raise TypeError(f"{name} must have dtype bool or uint8 (nonzero = set), got {tensor.dtype}")
    dtype = dtypes[tensor.dtype]
    _check_masks(tuple(tensor.shape), dtype, name, ndim)
    return DeviceArray(
        ptr=tensor.data_ptr(),
        shape=tuple(tensor.shape),
        strides=tuple(int(s) * tensor.element_size() for s in tensor.stride()),
        dtype=dtype,
        device=tensor.device.index,
        stream=torch.cuda.current_stream(tensor.device).cuda_stream,
        owner=tensor,
    )


def _from_interface(obj: Any, name: str, ndim: int) -> DeviceArray:
    from interorder_rt._ext import require_cuda

    cai = obj.__cuda_array_interface__
    if cai.get("mask") is not None:
        raise TypeError(f"{name}: masked __cuda_array_interface__ arrays are not supported")
    shape = tuple(int(s) for s in cai["shape"])
    dtype = np.dtype(cai["typestr"])
    _check_masks(shape, dtype, name, ndim)
    strides = cai.get("strides")
    if strides is None:
        strides = tuple(int(np.prod(shape[k + 1 :], dtype=np.int64)) * dtype.itemsize for k in range(len(shape)))
    ptr = int(cai["data"][0])
    stream = cai.get("stream")
    device = require_cuda().cuda_pointer_device(ptr) if ptr else 0
    return DeviceArray(ptr, shape, tuple(int(s) for s in strides), dtype, device, int(stream or 0), obj)


class DeviceMemory:
    """Allocates, uploads and downloads device arrays the way the input's library would."""

    def __init__(self, like: DeviceArray) -> None:
        self.device = like.device
        self.torch = like.is_torch
        self._stream = like.stream

    @property
    def stream(self) -> int:
        """The stream to queue work on: torch's current stream, or the input's."""
        if self.torch:
            import torch

            return torch.cuda.current_stream(self.device).cuda_stream
        return self._stream

    def empty(self, shape: tuple[int, ...], dtype: Any) -> DeviceArray:
        dtype = np.dtype(dtype)
        if self.torch:
            import torch

            # Packed words live in int64 tensors: same bytes, and torch's uint64 support is thin.
            storage = {np.dtype(np.uint64): torch.int64}
            torch_dtype = storage.get(dtype) or getattr(torch, dtype.name)
            owner = torch.empty(shape, dtype=torch_dtype, device=f"cuda:{self.device}")
            ptr = owner.data_ptr()
        else:
            from interorder_rt._ext import require_cuda

            owner = require_cuda().DeviceBuffer(list(shape), dtype.str, self.device, self._stream)
            ptr = owner.ptr
        strides = tuple(int(np.prod(shape[k + 1 :], dtype=np.int64)) * dtype.itemsize for k in range(len(shape)))
        return DeviceArray(ptr, tuple(shape), strides, dtype, self.device, self.stream, owner)

    def upload(self, host: np.ndarray) -> DeviceArray:
        host = np.ascontiguousarray(host)
        if self.torch:
            import torch

            owner = torch.from_numpy(host).to(f"cuda:{self.device}")
            return DeviceArray(owner.data_ptr(), host.shape, host.strides, host.dtype, self.device, self.stream, owner)
        array = self.empty(host.shape, host.dtype)
        array.owner.copy_from(host)
        return array

    @staticmethod
    def download(array: DeviceArray) -> np.ndarray:
        """A host copy; waits for the work that produces ``array``."""
        if _torch_tensor(array.owner):
            return array.owner.cpu().numpy()
        return array.owner.to_numpy()
