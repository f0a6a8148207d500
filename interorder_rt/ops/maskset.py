"""``MaskSet``: N instance masks of one frame, bit-packed once and queried many times.

Packing stores each mask as H rows of ceil(W / 64) uint64 words, with its area and box, and runs
the compiled kernels of ``interorder_rt._C`` on them: on the CPU (OpenMP) for host masks, on the
GPU for CUDA masks when the extension has CUDA kernels and a GPU is usable. Without the
extension every op runs on the NumPy reference (``ops.reference``), which defines the results
bit for bit in all cases.

Where results live: counts, boxes and N x N matrices are NumPy arrays; mask-shaped results
(union, hulls, crops) are NumPy for host masks and stay on the GPU for CUDA masks (a torch
tensor for torch input, else a ``_C.DeviceBuffer`` exposing ``__cuda_array_interface__``).
CUDA masks with no CUDA kernels to run them are copied to the host (this needs torch).
"""

from __future__ import annotations

import operator
from typing import Any, Sequence

import numpy as np

from interorder_rt import _ext
from interorder_rt.ops import reference as ref
from interorder_rt.ops.inputs import DeviceArray, DeviceMemory, device_masks, host_masks, is_device

Index = int | Sequence[int] | np.ndarray


def _index(index: Index, n: int, name: str) -> np.ndarray:
    """Mask indices as a C-contiguous int64 array in [0, n); negative ones count from the end."""
    arr = np.asarray(index)
    if arr.dtype == np.bool_ or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must be integer mask indices, got dtype {arr.dtype}")
    if arr.ndim > 1:
        raise ValueError(f"{name} must be an index or a 1-D sequence of indices, got shape {arr.shape}")
    arr = arr.reshape(-1).astype(np.int64)
    bad = (arr < -n) | (arr >= n)
    if bad.any():
        raise ValueError(f"{name}: mask index {int(arr[bad][0])} out of range for {n} masks")
    return np.ascontiguousarray(np.where(arr < 0, arr + n, arr))


def _crop_boxes(crop_boxes: Any, count: int) -> np.ndarray:
    boxes = np.asarray(crop_boxes, dtype=np.float64)
    if boxes.size != 4 * count:
        raise ValueError(
            f"crop_boxes must hold one (x0, y0, x1, y1) box per index: {count} x 4, got shape {boxes.shape}"
        )
    boxes = boxes.reshape(count, 4)
    finite = np.isfinite(boxes).all(axis=1)
    if not finite.all():  # NaN or inf would sample nothing: all-zero crops, silently
        k = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"crop_boxes must be finite; box {k} is {boxes[k].tolist()}")
    return np.ascontiguousarray(boxes)


def _crop_size(size: Any) -> int:
    size = operator.index(size)
    if size < 0:
        raise ValueError(f"crop size must be >= 0, got {size}")
    return size


class _Reference:
    """The NumPy reference on an unpacked bool stack (used when the extension is not built)."""

    backend = "numpy"

    def __init__(self, masks: np.ndarray) -> None:
        self.shape = masks.shape
        self.masks = masks.astype(bool)
        self._areas = ref.areas(self.masks)
        self._boxes = ref.boxes(self.masks)

    def areas(self) -> np.ndarray:
        return self._areas.copy()

    def boxes(self) -> np.ndarray:
        return self._boxes.copy()

    def union(self, index: np.ndarray) -> np.ndarray:
        return ref.union(self.masks, index)

    def intersection(self, index: np.ndarray) -> np.ndarray:
        return ref.intersection(self.masks, index)

    def difference(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return ref.difference(self.masks, a, b)

    def intersection_matrix(self) -> np.ndarray:
        return ref.intersection_matrix(self.masks)

    def bordering_matrix(self) -> np.ndarray:
        return ref.bordering_matrix(self.masks)

    def convex_hulls(self) -> np.ndarray:
        return ref.convex_hull_masks(self.masks)

    def crops(self, index: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
        return ref.crop_resize(self.masks, index, boxes, size)

    def to_numpy(self) -> np.ndarray:
        return self.masks.copy()


class _HostPacked:
    """Packed masks in host memory, CPU kernels."""

    backend = "cpu"

    def __init__(self, masks: np.ndarray) -> None:
        self.C = _ext.compiled()
        self.shape = masks.shape
        self.width = masks.shape[2]
        self.bits, self._areas, self._boxes = self.C.pack(masks)

    def areas(self) -> np.ndarray:
        return self._areas.copy()

    def boxes(self) -> np.ndarray:
        return self._boxes.copy()

    def union(self, index: np.ndarray) -> np.ndarray:
        return self.C.union(self.bits, self.width, index)

    def intersection(self, index: np.ndarray) -> np.ndarray:
        return self.C.intersection(self.bits, self.width, index)

    def difference(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.C.difference(self.bits, self.width, a, b)

    def intersection_matrix(self) -> np.ndarray:
        return self.C.intersection_matrix(self.bits, self.width, self._boxes, self._areas)

    def bordering_matrix(self) -> np.ndarray:
        return self.C.bordering_matrix(self.bits, self.width, self._boxes)

    def convex_hulls(self) -> np.ndarray:
        return self.C.convex_hulls(self.bits, self.width, self._boxes)

    def crops(self, index: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
        return self.C.crop_resize(self.bits, self.width, index, boxes, size)

    def to_numpy(self) -> np.ndarray:
        return self.C.unpack(self.bits, self.width)


class _DevicePacked:
    """Packed masks in GPU memory, CUDA kernels on the input's stream (torch: the current one)."""

    backend = "cuda"

    def __init__(self, masks: DeviceArray) -> None:
        self.C = _ext.require_cuda()
        self.memory = DeviceMemory(masks)
        n, h, w = masks.shape
        self.shape = (n, h, w)
        self.bits = self.memory.empty((n, h, (w + 63) // 64), np.uint64)
        self.areas_d = self.memory.empty((n,), np.int64)
        self.boxes_d = self.memory.empty((n, 4), np.int32)
        self.C.cuda_pack(masks.ptr, masks.shape, masks.strides, self.bits.ptr, self.areas_d.ptr, self.boxes_d.ptr,
                         self.memory.device, self.memory.stream)
        # Reading areas and boxes back waits for the packing, so the input may be freed after.
        self._areas = self.memory.download(self.areas_d)
        self._boxes = self.memory.download(self.boxes_d)

    def _launch(self, name: str, *args: Any) -> None:
        getattr(self.C, f"cuda_{name}")(*args, self.memory.device, self.memory.stream)

    def areas(self) -> np.ndarray:
        return self._areas.copy()

    def boxes(self) -> np.ndarray:
        return self._boxes.copy()

    def _plane(self, index: np.ndarray, op: str) -> DeviceArray:
        """One packed (H, words) plane: op over the indexed masks, all zero for none."""
        n, h, w = self.shape
        words = (w + 63) // 64
        if not index.size:
            return self.memory.upload(np.zeros((h, words), np.int64))
        plane = self.memory.empty((h, words), np.uint64)
        self._launch("combine", self.bits.ptr, self.shape, index, op, plane.ptr)
        return plane

    def _unpacked(self, bits: DeviceArray, planes: int) -> Any:
        n, h, w = self.shape
        shape = (planes, h, w) if planes != 1 else (h, w)
        out = self.memory.empty(shape, np.bool_)
        self._launch("unpack", bits.ptr, planes, h, w, out.ptr)
        return out.owner

    def union(self, index: np.ndarray) -> Any:
        return self._unpacked(self._plane(index, "union"), 1)

    def intersection(self, index: np.ndarray) -> Any:
        return self._unpacked(self._plane(index, "intersection"), 1)

    def difference(self, a: np.ndarray, b: np.ndarray) -> Any:
        kept, removed = self._plane(a, "union"), self._plane(b, "union")
        self._launch("and_not", kept.ptr, removed.ptr, self.shape[1], self.shape[2])
        return self._unpacked(kept, 1)

    def intersection_matrix(self) -> np.ndarray:
        n = self.shape[0]
        out = self.memory.empty((n, n), np.int64)
        self._launch("intersection_matrix", self.bits.ptr, self.shape, self.boxes_d.ptr, self.areas_d.ptr, out.ptr)
        return self.memory.download(out)

    def bordering_matrix(self) -> np.ndarray:
        n = self.shape[0]
        out = self.memory.empty((n, n), np.bool_)
        self._launch("bordering_matrix", self.bits.ptr, self.shape, self.boxes_d.ptr, out.ptr)
        return self.memory.download(out)

    def convex_hulls(self) -> Any:
        out = self.memory.empty(self.shape, np.bool_)
        self._launch("convex_hulls", self.bits.ptr, self.shape, self.boxes_d.ptr, out.ptr)
        return out.owner

    def crops(self, index: np.ndarray, boxes: np.ndarray, size: int) -> Any:
        out = self.memory.empty((index.size, size, size), np.uint8)
        index_d, boxes_d = self.memory.upload(index), self.memory.upload(boxes)
        self._launch("crop_resize", self.bits.ptr, self.shape, index_d.ptr, boxes_d.ptr, index.size, size, out.ptr)
        return out.owner

    def to_numpy(self) -> np.ndarray:
        out = self.memory.empty(self.shape, np.bool_)
        self._launch("unpack", self.bits.ptr, self.shape[0], self.shape[1], self.shape[2], out.ptr)
        return self.memory.download(out)


def _to_host(masks: Any, name: str) -> np.ndarray:
    """CUDA masks copied to the host, for builds or machines that cannot run the CUDA kernels."""
    if not hasattr(masks, "cpu"):
        reason = "no usable GPU" if _ext.cuda_compiled() else "this build has no CUDA kernels"
        raise TypeError(f"{name} are CUDA arrays but CUDA kernels cannot run here ({reason}), "
                        "and only torch tensors can be copied to the host")
    return host_masks(masks.detach().cpu(), name)


def _backend(masks: Any) -> _Reference | _HostPacked | _DevicePacked:
    if is_device(masks):
        if _ext.gpu_count() > 0:
            return _DevicePacked(device_masks(masks))
        masks = _to_host(masks, "masks")
    else:
        masks = host_masks(masks)
    return _HostPacked(masks) if _ext.compiled() is not None else _Reference(masks)


class MaskSet:
    """N same-size instance masks with their areas and boxes, packed once for fast queries.

    ``masks``: (N, H, W) bool or uint8 (nonzero = set) as a NumPy array, a torch tensor (CPU or
    CUDA), a DLPack producer, an object exposing ``__cuda_array_interface__``, or a sequence of
    (H, W) masks. Host arrays are read in place whatever their strides.
    """

    def __init__(self, masks: Any) -> None:
        self._impl = _backend(masks)
        self._shape = tuple(int(s) for s in self._impl.shape)

    @property
    def n(self) -> int:
        return self._shape[0]

    @property
    def height(self) -> int:
        return self._shape[1]

    @property
    def width(self) -> int:
        return self._shape[2]

    @property
    def backend(self) -> str:
        """Where the ops run: "cuda", "cpu" (compiled) or "numpy" (reference)."""
        return self._impl.backend

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"MaskSet(n={self.n}, height={self.height}, width={self.width}, backend={self.backend!r})"

    def to_numpy(self) -> np.ndarray:
        """(N, H, W) bool host copy."""
        return self._impl.to_numpy()

    def areas(self) -> np.ndarray:
        """(N,) int64 pixel counts."""
        return self._impl.areas()

    def boxes(self) -> np.ndarray:
        """(N, 4) int32 tight boxes ``x0, y0, x1, y1`` (exclusive ends; empty mask: zeros)."""
        return self._impl.boxes()

    def union(self, index: Index) -> Any:
        """(H, W) bool union of the selected masks (all False for none)."""
        return self._impl.union(_index(index, self.n, "index"))

    def intersection(self, index: Index) -> Any:
        """(H, W) bool intersection of the selected masks (all False for none)."""
        return self._impl.intersection(_index(index, self.n, "index"))

    def difference(self, a: Index, b: Index) -> Any:
        """(H, W) bool relative complement ``union(a) \\ union(b)``."""
        return self._impl.difference(_index(a, self.n, "a"), _index(b, self.n, "b"))

    def intersection_matrix(self) -> np.ndarray:
        """(N, N) int64 ``|mask_i & mask_j|``; the diagonal holds the areas."""
        return self._impl.intersection_matrix()

    def bordering_matrix(self) -> np.ndarray:
        """(N, N) bool: mask i dilated by a 3x3 cross touches mask j; False on the diagonal."""
        return self._impl.bordering_matrix()

    def convex_hulls(self) -> Any:
        """(N, H, W) bool: pixels whose centres lie in the convex hull of each mask."""
        return self._impl.convex_hulls()

    def crops(self, indices: Index, crop_boxes: Any, size: int) -> Any:
        """(B, size, size) uint8 nearest-neighbour crops of ``masks[indices[b]]`` in ``crop_boxes[b]``.

        ``crop_boxes``: (B, 4) float ``x0, y0, x1, y1`` pixels; samples outside the frame are 0.
        """
        index = _index(indices, self.n, "indices")
        return self._impl.crops(index, _crop_boxes(crop_boxes, index.size), _crop_size(size))


def growth_counts(amodal: Any, target: Any, partner: Any) -> np.ndarray:
    """Per item, the pixels a completion grew into its partner: ``|amodal & ~target & partner|``.

    Three (B, S, S) bool/uint8 stacks (nonzero = set), all on the host or all on one GPU;
    returns (B,) int64 on the host.
    """
    stacks = {"amodal": amodal, "target": target, "partner": partner}
    on_device = [name for name, value in stacks.items() if is_device(value)]
    if on_device and len(on_device) != len(stacks):
        raise ValueError(f"amodal, target and partner must all be on the host or all on the GPU; {on_device} are CUDA")
    if on_device and _ext.gpu_count() > 0:
        return _device_growth(*(device_masks(value, name) for name, value in stacks.items()))
    if on_device:
        stacks = {name: _to_host(value, name) for name, value in stacks.items()}
    arrays = [host_masks(value, name) for name, value in stacks.items()]
    if len({a.shape for a in arrays}) != 1:
        raise ValueError(f"amodal, target and partner must have the same shape, got {[a.shape for a in arrays]}")
    C = _ext.compiled()
    return C.growth_counts(*arrays) if C is not None else ref.growth_counts(*arrays)


def _device_growth(amodal: DeviceArray, target: DeviceArray, partner: DeviceArray) -> np.ndarray:
    stacks = (amodal, target, partner)
    if len({s.shape for s in stacks}) != 1 or len({s.device for s in stacks}) != 1:
        raise ValueError("amodal, target and partner must have the same shape and be on the same GPU")
    memory = DeviceMemory(amodal)
    out = memory.empty((amodal.shape[0],), np.int64)
    _ext.require_cuda().cuda_growth_counts(amodal.ptr, amodal.strides, target.ptr, target.strides, partner.ptr,
                                           partner.strides, amodal.shape, out.ptr, memory.device, memory.stream)
    return memory.download(out)
