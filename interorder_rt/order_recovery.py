"""Order recovery (ORNet stage): the pairwise occlusion order of one frame's instances.

For every bordering pair (i, j) ORNet completes i with j as a possible occluder, and j with i.
The completion that grows more into its partner's visible mask belongs to the occluded one
(DESIGN.md, "Order from completed masks"). All 2P crops of a frame go through one batched
forward pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
import torch

from interorder_rt import _ext
from interorder_rt.backends import onnx_runtime, select
from interorder_rt.backends.device_arrays import as_tensor
from interorder_rt.models.ornet import build_input
from interorder_rt.ops import MaskSet, OrderResult, growth_counts, layering_from_order, order_from_growth
from interorder_rt.ops.inputs import host_masks, is_device

SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "ornet.pt"


def target_crop_boxes(boxes: np.ndarray, enlarge: float, max_aspect: float = 1.0) -> np.ndarray:
    """(B, 4) float64 crop boxes centred on (B, 4) ``x0, y0, x1, y1`` target boxes.

    Each side is ``enlarge`` x the box's side, but no shorter than the longer side over
    ``max_aspect`` (1: a square on the longer side), and at least 1 pixel, so a single-pixel
    instance still gets a crop.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    extent = boxes[:, 2:] - boxes[:, :2]
    sides = np.maximum(enlarge * np.maximum(extent, extent.max(axis=1, keepdims=True) / max_aspect), 1.0)
    return np.concatenate([centre - sides / 2.0, centre + sides / 2.0], axis=1)


def crop_image(image: np.ndarray | torch.Tensor, crop_boxes: np.ndarray, size: int) -> np.ndarray | torch.Tensor:
    """(B, size, size, 3) uint8 nearest-neighbour crops of an (H, W, 3) image (a NumPy array, or a
    tensor: crops on its device); 0 outside the image.

    Samples the same pixels as ``MaskSet.crops`` (``floor(x0 + (u + 0.5) * (x1 - x0) / size)``).
    """
    h, w = image.shape[:2]
    crop_boxes = np.asarray(crop_boxes, dtype=np.float64).reshape(-1, 4)
    steps = (np.arange(size) + 0.5) / size
    sx = np.floor(crop_boxes[:, :1] + steps * (crop_boxes[:, 2:3] - crop_boxes[:, :1])).astype(np.int64)
    sy = np.floor(crop_boxes[:, 1:2] + steps * (crop_boxes[:, 3:4] - crop_boxes[:, 1:2])).astype(np.int64)
    inside = (((sy >= 0) & (sy < h))[:, :, None] & ((sx >= 0) & (sx < w))[:, None, :])[..., None].astype(np.uint8)
    rows, cols = np.clip(sy, 0, h - 1)[:, :, None], np.clip(sx, 0, w - 1)[:, None, :]
    if isinstance(image, torch.Tensor):  # the Engine's device path: crops cut where the image is
        rows, cols, inside = (torch.from_numpy(a).to(image.device) for a in (rows, cols, inside))
    return image[rows, cols] * inside


def paste_crop(probability: np.ndarray, crop_box: np.ndarray, height: int, width: int, threshold: float) -> np.ndarray:
    """(H, W) bool: an (S, S) probability map mapped back into its crop box, bilinear, thresholded."""
    out = np.zeros((height, width), dtype=bool)
    window = paste_window(probability, crop_box, height, width, threshold)
    if window is not None:
        roi, (x0, y0, x1, y1) = window
        out[y0:y1, x0:x1] = roi
    return out


def paste_window(probability: np.ndarray, crop_box: np.ndarray, height: int,
                 width: int, threshold: float) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """:func:`paste_crop` within the crop box only: (the box's bool pixels, ``(x0, y0, x1, y1)``
    of the box in the frame), None when the box misses the frame."""
    size = probability.shape[0]
    x0, y0, x1, y1 = (float(v) for v in crop_box)
    scale_x, scale_y = (x1 - x0) / size, (y1 - y0) / size
    ix0, iy0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    ix1, iy1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    # Image pixel centre (x + 0.5) sits at crop coordinate (x + 0.5 - x0) / scale_x - 0.5.
    to_crop = np.array(
        [[1 / scale_x, 0, (ix0 + 0.5 - x0) / scale_x - 0.5], [0, 1 / scale_y, (iy0 + 0.5 - y0) / scale_y - 0.5]]
    )
    roi = cv2.warpAffine(
        probability.astype(np.float32),
        to_crop,
        (ix1 - ix0, iy1 - iy0),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return roi > threshold, (ix0, iy0, ix1, iy1)


class OrderRecovery:
    """Pairwise occlusion order (and optionally amodal masks) of one frame's instances.

    ``weights``: an exported ORNet checkpoint (None: the shipped ``weights/ornet.pt``), or an
    ONNX file written by ``interorder export``.
    ``backend``: what runs the net: ``"torch"`` (CUDA graphs on a GPU), ``"onnxruntime"`` (CPU
    only, faster there), ``"tensorrt"`` (GPU only) or ``"auto"`` (ONNX Runtime on the CPU when it
    is installed, else torch); ``self.backend`` says which one was taken
    (``interorder_rt.backends.select``).
    ``threads``: CPU threads of the forward pass (None: ``min(4, torch.get_num_threads())``); with
    torch, the caller's setting is restored afterwards.
    On a CUDA ``device`` the masks are packed by the CUDA kernels (when the build has them and a
    GPU is usable), and crops, net, thresholds and growth counts stay on the GPU; the order
    matrix is assembled on the host from the (N, N) counts.
    ``threshold``: probability above which a crop pixel belongs to the completed mask.
    """

    def __init__(
        self,
        weights: str | Path | None = None,
        device: str = "cpu",
        *,
        backend: str = "auto",
        threads: int | None = None,
        threshold: float = 0.5,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must lie in (0, 1), got {threshold}")
        self.weights = Path(weights) if weights is not None else SHIPPED_WEIGHTS
        self.device = torch.device(device)
        if threads is None and self.device.type == "cpu":
            threads = onnx_runtime.default_threads()
        self.net = select.load_net("ornet", self.weights, self.device, backend, threads)
        self.backend = self.net.backend
        self.config = self.net.config
        self.model = self.net.model
        self.threads = threads
        self.threshold = float(threshold)
        self._logit_threshold = float(np.log(threshold / (1.0 - threshold)))

    @property
    def reads_image(self) -> bool:
        """Whether the order depends on the image (an RGB model) or on the masks alone."""
        return bool(self.config.rgb)

    def __call__(self, masks, image: np.ndarray | None = None, *, amodal: bool = False) -> OrderResult:
        """Order of the instances in ``masks`` (a MaskSet or (N, H, W) bool array).

        ``image`` (H, W, 3) uint8 is needed only by RGB models. With ``amodal`` the result also
        holds each instance's amodal mask: its completion against the union of its occluders.
        """
        maskset = masks if isinstance(masks, MaskSet) else MaskSet(self._on_device(masks))
        return self._recover(maskset, image) if amodal else self._order(maskset, self._check_image(image, maskset))[0]

    def _recover(self, maskset: MaskSet, image: Any, modal: torch.Tensor | None = None) -> OrderResult:
        """The order with amodal masks (``modal``: as for :meth:`_amodal_masks`). An instance with
        one occluder is completed against it alone, which the order pass already did: its logits
        are reused, and only instances with several occluders go through the net again."""
        image = self._check_image(image, maskset)
        result, pairs = self._order(maskset, image)
        result.amodal = self._amodal_masks(maskset, image, result.order, modal, pairs)
        return result

    def _order(self, maskset: MaskSet, image: Any) -> tuple[OrderResult, dict[tuple[int, int], torch.Tensor]]:
        """The order pass: the result, and the logits of each (target, partner) completion."""
        n = maskset.n
        growth = np.zeros((n, n), dtype=np.float32)
        pairs: dict[tuple[int, int], torch.Tensor] = {}
        if n >= 2:
            front, back = np.nonzero(np.triu(maskset.bordering_matrix(), 1))
            targets = np.concatenate([front, back])
            partners = np.concatenate([back, front])
            if targets.size:
                boxes = self._crop_boxes(maskset, targets)
                logits, target_crops, partner_crops = self._forward(
                    maskset, image, targets, [[j] for j in partners], boxes
                )
                counts = growth_counts(logits > self._logit_threshold, target_crops, partner_crops)
                pixel_area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) / self.config.size**2
                growth[targets, partners] = counts * pixel_area
                pairs = {(int(i), int(j)): logits[b] for b, (i, j) in enumerate(zip(targets, partners))}
        order = order_from_growth(growth)
        layering, dropped = layering_from_order(order, growth)
        return OrderResult(order=order, growth=growth, layering=layering, dropped=dropped), pairs

    def _check_image(self, image: np.ndarray | None, maskset: MaskSet) -> np.ndarray | None:
        if not self.config.rgb:
            return None
        if image is None:
            raise ValueError(f"this ORNet ({self.weights}) takes RGB input: pass the (H, W, 3) uint8 image")
        image = image if isinstance(image, torch.Tensor) else np.asarray(image)
        uint8 = torch.uint8 if isinstance(image, torch.Tensor) else np.uint8
        if tuple(image.shape) != (maskset.height, maskset.width, 3) or image.dtype != uint8:
            raise ValueError(
                f"image must be ({maskset.height}, {maskset.width}, 3) uint8 like the masks, "
                f"got {tuple(image.shape)} {image.dtype}"
            )
        return image

    def _crop_boxes(self, maskset: MaskSet, targets: np.ndarray) -> np.ndarray:
        return target_crop_boxes(maskset.boxes()[targets], self.config.enlarge, self.config.max_aspect)

    def _forward(
        self,
        maskset: MaskSet,
        image: np.ndarray | None,
        targets: np.ndarray,
        occluders: Sequence[Sequence[int]],
        boxes: np.ndarray,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One batched forward: (B, S, S) logits, and the target and occluder-union crops (bool),
        as tensors on the net's device.

        Target b is completed against the union of ``occluders[b]`` (a non-empty list).
        """
        size = self.config.size
        target_crops = self._tensor(maskset.crops(targets.tolist(), boxes, size)).bool()
        counts = [len(group) for group in occluders]
        owner = np.repeat(np.arange(len(targets)), counts)
        each = self._tensor(maskset.crops([int(j) for group in occluders for j in group], boxes[owner], size))
        if len(each) == len(targets):  # one occluder per target (the order pass): no union to take
            occluder_crops = each.bool()
        else:
            union = torch.zeros(target_crops.shape, dtype=torch.int32, device=each.device)
            occluder_crops = union.index_add_(0, self._tensor(owner), each.to(torch.int32)) > 0
        rgb = crop_image(image, boxes, size) if image is not None else None
        logits = self.net(build_input(target_crops, occluder_crops, rgb))
        return logits, target_crops.to(logits.device), occluder_crops.to(logits.device)

    def _tensor(self, array: Any) -> torch.Tensor:
        """A NumPy array, torch tensor or CUDA array (``__cuda_array_interface__``) on the net's device."""
        return as_tensor(array, self.device)

    def _on_device(self, masks: Any) -> Any:
        """Host masks uploaded once for a CUDA net, so the CUDA kernels pack and crop them."""
        if self.device.type != "cuda" or _ext.gpu_count() == 0 or is_device(masks):
            return masks
        return torch.as_tensor(host_masks(masks), device=self.device)

    def _amodal_masks(self, maskset: MaskSet, image: np.ndarray | None, order: np.ndarray,
                      modal: torch.Tensor | None = None, pairs: dict[tuple[int, int], torch.Tensor] | None = None) -> Any:
        """Each instance's modal mask, OR-ed with its completion against the union of its occluders.

        With ``modal`` (the masks as a tensor: the Engine's device path) the result is a tensor on
        its device, each completion pasted within its crop box there. ``pairs``: the order pass's
        logits per (target, partner), reused for an instance with that partner as its one occluder.
        """
        pairs = pairs or {}
        amodal = maskset.to_numpy() if modal is None else modal.clone()
        occluded = [i for i in range(maskset.n) if np.any(order[i] == -1)]
        if not occluded:
            return amodal
        targets = np.array(occluded)
        occluders = [np.flatnonzero(order[i] == -1).tolist() for i in occluded]
        boxes = self._crop_boxes(maskset, targets)
        logits: list[torch.Tensor | None] = [pairs.get((i, group[0])) if len(group) == 1 else None
                                             for i, group in zip(occluded, occluders)]
        todo = [k for k, row in enumerate(logits) if row is None]
        if todo:
            fresh = self._forward(maskset, image, targets[todo], [occluders[k] for k in todo], boxes[todo])[0]
            for k, row in zip(todo, fresh):
                logits[k] = row
        probability = torch.sigmoid(torch.stack(logits)).cpu().numpy()
        for k, i in enumerate(occluded):
            window = paste_window(probability[k], boxes[k], maskset.height, maskset.width, self.threshold)
            if window is not None:
                roi, (x0, y0, x1, y1) = window
                amodal[i, y0:y1, x0:x1] |= roi if modal is None else torch.from_numpy(roi).to(modal.device)
        return amodal
