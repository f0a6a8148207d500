"""Content completion: the hidden part of an occluded instance, or a freed background hole.

Three fillers, chosen per job (``ContentCompletion(background=..., instance=...)``): MNet,
described below, the exemplar fill (``interorder_rt.compose.exemplar``: PatchMatch in the
compiled core, patches copied from the same frame), and ``"telea"``: the classical fill MNet
starts from, without the net's correction. ``ENGINE_FILLERS`` is what ``Engine`` uses by
default, chosen by ``interorder eval removal`` and ``interorder eval completion`` (README).

For MNet both jobs share one geometry. A square box around the region of interest is cut from the frame
(zero outside the image) and resized to the net's S x S crop; the crop carries a classical fill
of its unknown pixels (OpenCV Telea) and MNet predicts a better one. The frame gets the same
classical fill at full resolution, plus MNet's correction (its fill minus the crop's classical
fill) resized back to the box, written **only inside the hole**: every other pixel is returned
unchanged, and the resize costs no sharpness where the classical fill is already right.
Training (``training/mnet``) builds its crops with the same functions.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
import torch

from interorder_rt import _ext
from interorder_rt.backends import select
from interorder_rt.compose.boxes import Box, Part, mask_box, union_box
from interorder_rt.compose.exemplar import ExemplarOptions, exemplar_fill, padded
from interorder_rt.compose.painter import copy_masked
from interorder_rt.models.mnet import MNet, MNetConfig, mnet_input

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "mnet.pt"
INSTANCE_MARGIN = 0.1  # box padding around an instance's amodal box, as a share of its side
CONTEXT_MARGIN = 0.5  # box padding around a background hole: the context the net sees
MIN_CONTEXT = 8  # pixels of context around a background hole, at least
TELEA_RADIUS = 3  # neighbourhood radius of the classical fill, in pixels
FILL_BAND = 8  # pixels around a hole, beyond the Telea radius, that its full-resolution fill reads (eval completion)
INSTANCE_FILL_BAND = 2  # the same under MNet's correction, where the crop's coarse fill stands in beyond it (eval completion)
FILLERS = ("exemplar", "mnet", "telea")
# The Engine's default, by measurement (README, "What MNet does now"): PatchMatch fills freed background
# (+3.5 dB over MNet on synthetic scenes, texture on real photos); instances get the classical fill MNet
# corrects, without the net (the shipped MNet's correction adds 0.01 dB there, for twice the time).
ENGINE_FILLERS = {"background": "exemplar", "instance": "telea"}


@dataclass(frozen=True)
class CropBox:
    """A square box ``[x0, x0 + side) x [y0, y0 + side)`` in frame pixels; may leave the frame."""

    x0: int
    y0: int
    side: int

    def inside(self, height: int, width: int) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)`` of the part of the box inside a height x width frame (may be empty)."""
        return (max(self.x0, 0), max(self.y0, 0),
                min(self.x0 + self.side, width), min(self.y0 + self.side, height))


@dataclass
class Crop:
    """One S x S net input: known RGB in [0, 1] (zero elsewhere), known and hole masks, and the
    classical fill of every unknown pixel, which the net corrects."""

    known_rgb: np.ndarray  # (S, S, 3) float32
    known: np.ndarray  # (S, S) bool
    hole: np.ndarray  # (S, S) bool
    base: np.ndarray  # (S, S, 3) float32


def square_box(mask: np.ndarray, margin: float, min_pad: int = 0) -> CropBox:
    """The square box centred on ``mask``'s tight box, padded by ``margin`` x side (>= ``min_pad``)."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if ys.size == 0:
        raise ValueError("cannot place a crop box around an empty mask")
    return square_around((int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1), margin, min_pad)


def square_around(box: tuple[int, int, int, int], margin: float, min_pad: int = 0) -> CropBox:
    """The square box centred on the tight box ``(x0, y0, x1, y1)``, padded as :func:`square_box`."""
    x0, y0, x1, y1 = box
    side = int(max(x1 - x0, y1 - y0))
    side += 2 * max(int(np.ceil(margin * side)), min_pad)
    cx2, cy2 = x0 + x1, y0 + y1  # twice the centre
    return CropBox((cx2 - side) // 2, (cy2 - side) // 2, side)


def inpaint(image: np.ndarray, unknown: np.ndarray, method: int = cv2.INPAINT_TELEA) -> np.ndarray:
    """OpenCV inpainting (Telea by default) of the ``unknown`` pixels of a uint8 RGB image.

    Telea runs in the compiled core when it is built (``csrc/core/telea.cpp``: OpenCV's bytes,
    its marching front in a heap). With nothing known the result is mid-grey, as no colour can
    be propagated.
    """
    if unknown.all():
        return np.full_like(image, 128)
    core = _ext.compiled()
    if method == cv2.INPAINT_TELEA and core is not None and min(unknown.shape) > 1:
        out = np.array(image, dtype=np.uint8, order="C")
        core.telea_inpaint(out, np.ascontiguousarray(unknown, dtype=bool), TELEA_RADIUS)
        return out
    return cv2.inpaint(image, unknown.astype(np.uint8), TELEA_RADIUS, method)


def box_fill(image: np.ndarray, known: np.ndarray, box: CropBox, method: int = cv2.INPAINT_TELEA,
             hole: np.ndarray | None = None, coarse: np.ndarray | None = None, band: int = FILL_BAND) -> np.ndarray:
    """Full-resolution classical fill of the box's in-frame part from its ``known`` pixels only.

    With ``hole`` (H, W) bool, only the pixels around the hole are filled (:func:`fill_window`);
    the rest of the returned patch holds the known pixels and zero. The cost then follows the hole,
    not the box. ``coarse`` ((side, side, 3) uint8 over the whole box: the crop's classical fill
    resized) stands in for the unknown pixels farther than ``band`` + the Telea radius from the
    hole, which are then not filled again.
    """
    x0, y0, x1, y1 = box.inside(*known.shape)
    patch = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
    copy_masked(patch, image[y0:y1, x0:x1], known[y0:y1, x0:x1])
    unknown = ~known[y0:y1, x0:x1]
    if hole is None:
        return inpaint(patch, unknown, method)
    wx0, wy0, wx1, wy1 = fill_window(hole[y0:y1, x0:x1], unknown)
    window = (slice(wy0, wy1), slice(wx0, wx1))
    todo = unknown[window]
    if coarse is not None:
        reach = 2 * (TELEA_RADIUS + band) + 1
        near = cv2.dilate(hole[y0:y1, x0:x1][window].view(np.uint8), np.ones((reach, reach), np.uint8)).view(bool)
        far = todo & ~near
        stand_in = coarse[y0 - box.y0 : y1 - box.y0, x0 - box.x0 : x1 - box.x0][window]
        copy_masked(patch[window], stand_in, far)
        todo = todo & near
    patch[window] = inpaint(np.ascontiguousarray(patch[window]), todo, method)
    return patch


def inpaint_instance(image: np.ndarray, visible: np.ndarray, amodal: np.ndarray, method: int) -> np.ndarray:
    """OpenCV inpainting of an instance's hidden part from its own visible pixels only (an
    evaluation baseline: ``interorder eval completion``).

    Inside the box MNet crops, every pixel that is not the instance's is unknown, so colours
    spread from the instance alone (not from occluders or the background). Unlike MNet's own
    classical fill, every unknown pixel of the hole's window is filled at full resolution.
    """
    out = image.copy()
    hole = amodal & ~visible
    if not hole.any():
        return out
    box = square_box(amodal | visible, INSTANCE_MARGIN)
    paste_base(out, box_fill(image, visible, box, method, hole=hole), box, hole)
    return out


def fill_window(hole: np.ndarray, unknown: np.ndarray) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` within a box: the hole's tight box grown by the Telea radius plus
    ``FILL_BAND`` pixels; the whole box when that holds no known pixel or the hole is empty."""
    h, w = hole.shape
    ys = np.flatnonzero(hole.any(axis=1))
    if ys.size == 0:
        return 0, 0, w, h
    xs = np.flatnonzero(hole[ys[0] : ys[-1] + 1].any(axis=0))
    return window_around((int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1), unknown)


def window_around(tight: tuple[int, int, int, int], unknown: Any) -> tuple[int, int, int, int]:
    """:func:`fill_window` from the hole's tight box (``unknown``: a NumPy array or a tensor)."""
    h, w = unknown.shape
    x0, y0, x1, y1 = padded(tight, 0.0, TELEA_RADIUS + FILL_BAND, h, w)
    if unknown[y0:y1, x0:x1].all():
        return 0, 0, w, h
    return x0, y0, x1, y1


def _cut(plane: np.ndarray, box: CropBox) -> np.ndarray:
    """The box's pixels of a (H, W[, C]) plane as float32, zero outside the frame."""
    out = np.zeros((box.side, box.side, *plane.shape[2:]), dtype=np.float32)
    x0, y0, x1, y1 = box.inside(*plane.shape[:2])
    if x1 > x0 and y1 > y0:
        out[y0 - box.y0 : y1 - box.y0, x0 - box.x0 : x1 - box.x0] = plane[y0:y1, x0:x1]
    return out


def _resize(plane: np.ndarray, size: int) -> np.ndarray:
    interpolation = cv2.INTER_AREA if plane.shape[0] >= size else cv2.INTER_LINEAR
    return cv2.resize(plane, (size, size), interpolation=interpolation)


def _masked_mean(rgb: np.ndarray, weight: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(mostly-covered crop pixels, mean colour of the weighted box pixels under each crop pixel)."""
    frac = _resize(weight, size)
    mean = _resize(rgb * weight[..., None], size) / np.maximum(frac, 1e-6)[..., None]
    return frac > 0.5, np.clip(mean, 0.0, 1.0).astype(np.float32)


_UNIT_LEVELS = np.arange(256, dtype=np.float32) / np.float32(255.0)  # uint8 level -> [0, 1], as x / 255


def crop_region(image: np.ndarray, known: np.ndarray, hole: np.ndarray, box: CropBox, size: int) -> Crop:
    """Cut ``box`` out of the frame into an S x S :class:`Crop`.

    A crop pixel is a hole pixel if any frame pixel under it is; it is known if most of it is
    known and none of it is hole. Known colours are averaged over known frame pixels only, so
    no unknown colour bleeds in.
    """
    rgb = np.zeros((box.side, box.side, 3), np.float32)  # known colours, zero elsewhere
    masks = np.zeros((box.side, box.side, 2), np.float32)  # known, hole: one resize for both
    x0, y0, x1, y1 = box.inside(*hole.shape)
    if x1 > x0 and y1 > y0:
        window = (slice(y0 - box.y0, y1 - box.y0), slice(x0 - box.x0, x1 - box.x0))
        inside = known[y0:y1, x0:x1]
        known_pixels = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
        copy_masked(known_pixels, image[y0:y1, x0:x1], inside)
        rgb[window] = cv2.LUT(known_pixels, _UNIT_LEVELS)
        masks[window] = np.stack([inside, hole[y0:y1, x0:x1]], axis=-1)
    small = _resize(masks, size)
    frac, hole_crop = small[..., 0], small[..., 1] > 1e-6
    known_crop = (frac > 0.5) & ~hole_crop
    known_rgb = np.clip(_resize(rgb, size) / np.maximum(frac, 1e-6)[..., None], 0.0, 1.0).astype(np.float32)
    known_rgb = known_rgb * known_crop[..., None]
    base = inpaint(np.rint(known_rgb * 255.0).astype(np.uint8), ~known_crop).astype(np.float32) / 255.0
    return Crop(known_rgb, known_crop, hole_crop, np.where(known_crop[..., None], known_rgb, base))


def crop_truth(image: np.ndarray, region: np.ndarray, box: CropBox, size: int) -> np.ndarray:
    """The frame's colours over ``region`` cut like :func:`crop_region`, (S, S, 3) float32: a training target."""
    rgb = _cut(image, box) / np.float32(255.0)
    return _masked_mean(rgb, _cut(region, box), size)[1]


def paste_base(out: np.ndarray, base: np.ndarray, box: CropBox, hole: np.ndarray) -> None:
    """``out``'s hole pixels set in place to the full-resolution ``base`` fill of the box's in-frame
    part (from :func:`box_fill`): the classical fill as it is, with no correction."""
    x0, y0, x1, y1 = box.inside(*hole.shape)
    copy_masked(out[y0:y1, x0:x1], base, hole[y0:y1, x0:x1])


def filled_part(image: np.ndarray, base: np.ndarray, box: CropBox, hole: np.ndarray,
                correction: np.ndarray | None = None) -> Part:
    """The in-frame part of ``box``: ``image`` with its hole set to the full-resolution ``base``
    fill (from :func:`box_fill`), plus the S x S ``correction`` (in [-1, 1] units) resized to the
    box when given."""
    x0, y0, x1, y1 = box.inside(*hole.shape)
    rgb = image[y0:y1, x0:x1].copy()
    region = hole[y0:y1, x0:x1]
    if x1 <= x0 or y1 <= y0:
        return Part((x0, y0, x1, y1), rgb)
    if correction is None:
        copy_masked(rgb, base, region)
    else:
        big = cv2.resize(correction, (box.side, box.side), interpolation=cv2.INTER_LINEAR)
        delta = big[y0 - box.y0 : y1 - box.y0, x0 - box.x0 : x1 - box.x0]
        filled = base[region].astype(np.float32) + 255.0 * delta[region]
        rgb[region] = np.clip(np.rint(filled), 0, 255).astype(np.uint8)
    return Part((x0, y0, x1, y1), rgb)


def paste_correction(image: np.ndarray, base: np.ndarray, correction: np.ndarray, box: CropBox,
                     hole: np.ndarray) -> np.ndarray:
    """A copy of ``image`` with its hole set as :func:`filled_part` sets it, with the correction."""
    out = image.copy()
    part = filled_part(image, base, box, hole, correction)
    x0, y0, x1, y1 = part.box
    out[y0:y1, x0:x1] = part.rgb
    return out


def crops_to_tensor(crops: list[Crop], device: str | torch.device = "cpu") -> torch.Tensor:
    """Stack crops into the net's (B, 8, S, S) float32 input."""
    rgb = torch.from_numpy(np.stack([c.known_rgb for c in crops])).permute(0, 3, 1, 2)
    known = torch.from_numpy(np.stack([c.known for c in crops])[:, None].astype(np.float32))
    hole = torch.from_numpy(np.stack([c.hole for c in crops])[:, None].astype(np.float32))
    base = torch.from_numpy(np.stack([c.base for c in crops])).permute(0, 3, 1, 2)
    return mnet_input(rgb, known, hole, base).to(device)


def _coarse(crop: Crop, side: int) -> np.ndarray:
    """The crop's classical fill (known colours and Telea) resized to the box, (side, side, 3) uint8."""
    return np.rint(cv2.resize(crop.base, (side, side), interpolation=cv2.INTER_LINEAR) * 255.0).astype(np.uint8)


def _holes(visible: np.ndarray, amodal: np.ndarray) -> tuple[np.ndarray, list[Box | None]]:
    """(N, H, W) ``amodal & ~visible``, and for each instance with a hole the tight box of
    ``amodal | visible`` (None without a hole), computed within those boxes only."""
    holes = np.zeros(visible.shape, bool)
    tight: list[Box | None] = []
    for n in range(len(visible)):
        box = union_box([mask_box(amodal[n]), mask_box(visible[n])])
        if box is not None:
            x0, y0, x1, y1 = box
            np.greater(amodal[n, y0:y1, x0:x1], visible[n, y0:y1, x0:x1], out=holes[n, y0:y1, x0:x1])
            box = box if holes[n, y0:y1, x0:x1].any() else None
        tight.append(box)
    return holes, tight


@lru_cache(maxsize=1)
def _workers() -> ThreadPoolExecutor:
    """Threads for the classical fills of one frame's instances, one per core."""
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="interorder-fill")


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"image must be uint8, got dtype {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3), got shape {image.shape}")


def _check_mask(name: str, mask: np.ndarray, image: np.ndarray, stacked: bool = False) -> None:
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(mask).__name__}")
    if mask.dtype != bool:
        raise TypeError(f"{name} must be a bool mask, got dtype {mask.dtype}")
    if mask.ndim != (3 if stacked else 2) or mask.shape[-2:] != image.shape[:2]:
        form = "(N, H, W)" if stacked else "(H, W)"
        raise ValueError(f"{name} must be {form} with (H, W) = {image.shape[:2]} of the image, got shape {mask.shape}")


class ContentCompletion:
    """Completion stage: ``complete`` an occluded instance, ``fill_background`` under a removed one.

    ``background`` and ``instance`` choose the filler of each job: ``"exemplar"`` (PatchMatch,
    ``exemplar`` sets its :class:`ExemplarOptions`), ``"mnet"``, or ``"telea"``: the classical
    fill MNet corrects, without the net (OpenCV Telea; an instance's from its own visible pixels,
    the crop's fill standing in away from the hole). MNet's weights load only when a job uses it.
    ``backend`` (``"auto"``, ``"torch"``, ``"onnxruntime"`` or ``"tensorrt"``) chooses what runs
    the net, as for ``OrderRecovery``; ``self.backend`` says which one was taken (None while no
    job uses MNet). ``weights``: an MNet checkpoint or an ONNX file written by ``interorder export``.
    ``threads`` sets the net's CPU threads (None: ONNX Runtime ``min(4, torch.get_num_threads())``,
    torch the caller's setting).

    Its fills are deterministic (the same inputs give the same pixels), so a stream may reuse one
    whose inputs repeat (``compose.RepeatCache``). The Engine completes instances through
    :meth:`complete_parts` when a stage has it, else :meth:`complete_many`, else :meth:`complete`;
    here the three fill alike.
    """

    deterministic = True

    def __init__(
        self, weights: str | Path | None = None, device: str = "cpu", *, backend: str = "auto",
        threads: int | None = None, background: str = "mnet", instance: str = "mnet",
        exemplar: ExemplarOptions = ExemplarOptions(),
    ) -> None:
        for job, filler in (("background", background), ("instance", instance)):
            if filler not in FILLERS:
                raise ValueError(f"{job} filler must be one of {FILLERS}, got {filler!r}")
        self.background, self.instance, self.exemplar = background, instance, exemplar
        self.device = torch.device(device)
        select.resolve_backend(backend, self.device)  # a bad choice is refused even while MNet is unused
        self.backend: str | None = None
        self.net: MNet | None = None
        self.crop_size = MNetConfig().crop_size  # the crops of the classical fill MNet corrects
        if "mnet" in (background, instance):
            self._run = select.load_net("mnet", DEFAULT_WEIGHTS if weights is None else weights, self.device, backend,
                                        threads)
            self.backend = self._run.backend
            self.net = self._run.model
            self.crop_size = self._run.config.crop_size

    @torch.inference_mode()
    def correct(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S): the net's fill of each crop of the input batch ``x`` (``mnet_input``)
        minus the crop's classical fill, on ``x``'s device (the net runs on its own)."""
        return self._run(x.to(self.device)).to(x.device) - x[:, 5:8]

    def _corrections(self, crops: list[Crop]) -> np.ndarray:
        """(B, S, S, 3) float32: :meth:`correct` of the crops, on the host."""
        return self.correct(crops_to_tensor(crops, self.device)).permute(0, 2, 3, 1).cpu().numpy()

    def complete(self, image: np.ndarray, visible: np.ndarray, amodal: np.ndarray) -> np.ndarray:
        """Fill ``amodal & ~visible`` with the instance's completed content; other pixels unchanged."""
        _check_image(image)
        _check_mask("visible", visible, image)
        _check_mask("amodal", amodal, image)
        return self._complete(image, visible[None], amodal[None])[0]

    def complete_many(self, image: np.ndarray, visible: np.ndarray, amodal: np.ndarray) -> np.ndarray:
        """Batched :meth:`complete` of N instances of one frame, (N, H, W, 3) uint8.

        Output n is ``image`` with instance n's hidden part filled; the N completions are
        independent (with MNet, one net call for all of them).
        """
        _check_image(image)
        _check_mask("visible", visible, image, stacked=True)
        _check_mask("amodal", amodal, image, stacked=True)
        if visible.shape[0] != amodal.shape[0]:
            raise ValueError(f"visible and amodal hold {visible.shape[0]} and {amodal.shape[0]} masks")
        return self._complete(image, visible, amodal)

    def complete_parts(self, image: np.ndarray, visible: Sequence[np.ndarray], holes: Sequence[np.ndarray],
                       boxes: Sequence[Box | None]) -> list[Part | None]:
        """:meth:`complete_many` without frame-sized copies (the Engine's call).

        Instance n fills ``holes[n]`` ((H, W) bool, none of it in ``visible[n]``); ``boxes[n]`` is
        the tight box of ``visible[n] | holes[n]`` (None: nothing to fill). Returns, per instance,
        the in-frame part of its fill box with the hole filled and every other pixel from ``image``,
        or None.
        """
        return self.complete_layers([image] * len(visible), visible, holes, boxes)

    def complete_layers(self, images: Sequence[np.ndarray], visible: Sequence[np.ndarray],
                        holes: Sequence[np.ndarray], boxes: Sequence[Box | None]) -> list[Part | None]:
        """:meth:`complete_parts` with an image per instance: instance n is completed from
        ``images[n]`` (a stream's memory holds each instance's own layer), all on the fill workers."""
        if not len(images) == len(visible) == len(holes) == len(boxes):
            raise ValueError(f"images, visible, holes and boxes hold {len(images)}, {len(visible)}, {len(holes)} "
                             f"and {len(boxes)} entries")
        for image, plane, hole in zip(images, visible, holes):
            _check_image(image)
            _check_mask("visible", plane, image)
            _check_mask("holes", hole, image)
        return self._parts(images, visible, holes, boxes)

    def _complete(self, image: np.ndarray, visible: np.ndarray, amodal: np.ndarray) -> np.ndarray:
        out = np.repeat(image[None], visible.shape[0], axis=0)
        holes, tight = _holes(visible, amodal)
        for n, part in enumerate(self._parts([image] * len(holes), visible, holes, tight)):
            if part is not None:
                x0, y0, x1, y1 = part.box
                out[n, y0:y1, x0:x1] = part.rgb
        return out

    def _parts(self, images: Sequence[np.ndarray], visible: Sequence[np.ndarray], holes: Sequence[np.ndarray],
               tight: Sequence[Box | None]) -> list[Part | None]:
        parts: list[Part | None] = [None] * len(holes)
        todo = [n for n in range(len(holes)) if tight[n] is not None]
        if not todo:
            return parts
        if self.instance == "exemplar":
            for n in todo:  # an instance's hidden part is made of its own visible pixels only
                parts[n] = Part.whole(exemplar_fill(images[n], holes[n], source=visible[n],
                                                    options=self._instance_options()))
            return parts
        boxes = [square_around(tight[n], INSTANCE_MARGIN) for n in todo]
        crop = lambda n, box: crop_region(images[n], visible[n], holes[n], box, self.crop_size)  # noqa: E731
        base = lambda n, box, crop: box_fill(images[n], visible[n], box, hole=holes[n],  # noqa: E731
                                             coarse=_coarse(crop, box.side), band=INSTANCE_FILL_BAND)
        # On worker threads (OpenCV and the core release the GIL): with MNet, the crops, then the
        # full-resolution fills while the net runs; without it, each instance's crop and fill as one task.
        if self.instance == "telea":  # the classical fill MNet corrects, as it is; the largest box first
            largest = sorted(zip(todo, boxes), key=lambda job: -job[1].side)
            bases = [_workers().submit(lambda n, box: base(n, box, crop(n, box)), n, box) for n, box in largest]
            for (n, box), done in zip(largest, bases):
                parts[n] = filled_part(images[n], done.result(), box, holes[n])
            return parts
        crops = list(_workers().map(crop, todo, boxes))
        bases = [_workers().submit(base, n, box, c) for n, box, c in zip(todo, boxes, crops)]
        for n, box, done, correction in zip(todo, boxes, bases, self._corrections(crops)):
            parts[n] = filled_part(images[n], done.result(), box, holes[n], correction)
        return parts

    def _instance_options(self) -> ExemplarOptions:
        """The instance's box is its context: a small band around it only."""
        return replace(self.exemplar, context=INSTANCE_MARGIN, min_context=4)

    def fill_background(self, image: np.ndarray, hole: np.ndarray, avoid: np.ndarray | None = None,
                        shown: np.ndarray | None = None) -> np.ndarray:
        """Fill the ``hole`` with background continued from around it; other pixels unchanged.

        ``avoid`` (H, W) bool marks pixels the fill must not copy from (other people, what the
        removed people covered); the exemplar fill honours it, MNet sees them as context.
        ``shown`` (H, W) bool marks the hole pixels the output will show (default: all); the
        exemplar fill may leave the others as they are (``compose.exemplar.exemplar_fill``),
        MNet fills them all.
        """
        _check_image(image)
        _check_mask("hole", hole, image)
        for name, mask in (("avoid", avoid), ("shown", shown)):
            if mask is not None:
                _check_mask(name, mask, image)
        if not hole.any():
            return image.copy()
        if self.background == "exemplar":
            return exemplar_fill(image, hole, avoid=avoid, options=self.exemplar, shown=shown)
        box = square_box(hole, CONTEXT_MARGIN, MIN_CONTEXT)
        base = box_fill(image, ~hole, box, hole=hole)
        if self.background == "telea":  # the classical fill MNet corrects, as it is
            out = image.copy()
            paste_base(out, base, box, hole)
            return out
        crop = crop_region(image, ~hole, hole, box, self.crop_size)
        return paste_correction(image, base, self._corrections([crop])[0], box, hole)
