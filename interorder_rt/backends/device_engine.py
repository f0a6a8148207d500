"""``Engine.run`` and ``Engine.stream`` on a device: the frame stays on the GPU from input to output.

``Engine(device="cuda")`` hands each ``run``, and each frame of a ``stream``, to a
:class:`DevicePath`. The image and masks become tensors on the device once
(``backends.device_frame``: NumPy uploaded, torch and CuPy frames read in place), then every
per-pixel stage runs there, on the Engine's stream:

- order: masks packed and cropped by the CUDA kernels, ORNet, growth counts (``OrderRecovery``);
  each amodal completion pasted within its crop box into a device copy of the masks;
- joint evidence, overlaps, margins and the removal plan (``backends.device_masks``);
- pose: the moved mesh rasterized on the device (``backends.device_pose``);
- fill: the exemplar (PatchMatch) fill of the freed background and, with ``instance="exemplar"``,
  of the revealed instance parts (``backends.device_fill``); MNet's completion of the revealed
  instance parts, the default (``backends.device_mnet``: its crops and the net there, the crops'
  Telea fills on the host, ``device_kernels.telea_inpaint``);
- compositing: the layers painted back to front (``backends.device_composite``).

What reaches the host is small: boxes, the order matrix, growth, which instances reveal anything,
the pixels around the replaced people's joints, ORNet's 64 x 64 amodal crops, timings, and the
crops and windows MNet's completion fills by Telea (a sequential march, with no CUDA twin). Two
stages are host code and cross on purpose, each named where it happens (``_on_host``): MNet's
background fill (not the default); a completion, pose or order stage that is not the package's.

In a stream (:class:`StreamState`) the tracker's ids and boxes, the follower's choice and the
smoothed order and growth per pair of ids are small host data; the tracker's mask crops and the
order reuse's anchor masks stay tensors where the masks are, and only their pixel counts come
back. The stream's memories are the host stream's (``memory="static"`` or ``"homography"``, the
``RepeatCache`` of fills), their state held as tensors on the device (``backends.device_memory``):
the background memory is updated with each frame, fills the freed pixels an earlier frame showed
and reuses a fill while its never-seen hole stays the same; a still instance's revealed part
comes from what earlier frames showed or completed of it. Of them only boxes, counts, the few
samples of the cut and stillness tests and, with ``"homography"``, a grey copy of at most 640
pixels a side for OpenCV's feature matching cross to the host.

The merged image comes back in the input image's kind and device (a torch tensor for torch, CuPy
for CuPy, NumPy for NumPy); the result's other per-pixel fields stay torch tensors on the device.
The path runs on CPU tensors too, with the CPU twins of the same kernels
(``backends.device_kernels``): that is how it is tested without a GPU (``tests/test_device_path.py``).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from interorder_rt.backends import device_masks as dm
from interorder_rt.backends import device_mnet
from interorder_rt.backends.device_arrays import like_tensor
from interorder_rt.backends.device_composite import merge_transfer, paint
from interorder_rt.backends.device_fill import exemplar_fill_tensor
from interorder_rt.backends.device_frame import device_frame
from interorder_rt.backends.device_memory import DeviceBackgroundMemory, DeviceRepeatCache
from interorder_rt.backends.device_pose import DevicePose
from interorder_rt.completion import ContentCompletion
from interorder_rt.compose import (
    InstanceMemory, Layer, OrderReuse, OrderSmoother, merge_layering, overlapping_pairs,
)
from interorder_rt.compose.sight import in_sight, meet_within, with_unseen
from interorder_rt.frame import Frame
from interorder_rt.ops.maskset import MaskSet
from interorder_rt.ops.order import OrderResult
from interorder_rt.result import StageTimings, TransferResult
from interorder_rt.track import InstanceTracker, TargetFollower


def _on_host(function, *tensors: torch.Tensor | None, **options: Any) -> torch.Tensor:
    """``function`` of the tensors' host copies, its array result back on their device: the few
    stages that are host code (module docstring)."""
    device = next(t.device for t in tensors if t is not None)
    host = [None if t is None else t.cpu().numpy() for t in tensors]
    return torch.from_numpy(np.ascontiguousarray(function(*host, **options))).to(device)


@dataclass
class StreamState:
    """What ``Engine.stream`` keeps across frames on the device path: small host data (ids, boxes,
    the smoothed growth), mask crops held where the masks are, and the memories, on the device."""

    smoother: OrderSmoother
    tracker: InstanceTracker
    follower: TargetFollower | None = None
    reuse: OrderReuse | None = None
    memory: DeviceBackgroundMemory | None = None
    cache: DeviceRepeatCache | None = None

    @property
    def instances(self) -> InstanceMemory | None:
        """The still-camera memory of each instance (None without one)."""
        return self.memory.instances if self.memory is not None else None


class DevicePath:
    """The stages of ``engine`` run on tensors on ``device`` (module docstring)."""

    def __init__(self, engine: Any, device: torch.device) -> None:
        self.engine = engine
        self.device = torch.device(device)
        self.pose = DevicePose(engine.pose, self.device)

    def run(self, given: Frame, order: OrderResult | None, watch: Any) -> TransferResult:
        """``Engine.run`` of one frame (``watch``: the Engine's stage stopwatch)."""

        def ordered(frame: Frame, maskset: MaskSet, pairs: list[tuple[int, int]]) -> tuple[Frame, OrderResult]:
            if order is None:
                return frame, self._layered(self._recover_order(frame, maskset, pairs), frame)
            return frame, self._given_order(order, frame.masks)

        return self._frame(given, watch, ordered)

    def stream_frame(self, given: Frame, state: StreamState, watch: Any) -> TransferResult:
        """``Engine._stream_frame`` of one frame: the per-pixel work on the device, the stream's
        tracking, following, order reuse and smoothing on its small host results (ids, boxes, areas,
        the order and growth); the tracker's and the reuse's mask crops and the memories stay tensors."""
        untracked = given.instance_ids is None

        def ordered(frame: Frame, maskset: MaskSet, pairs: list[tuple[int, int]]) -> tuple[Frame, OrderResult]:
            boxes = maskset.boxes()
            if untracked:
                frame = replace(frame, instance_ids=state.tracker.update(frame.masks, boxes))
            if state.follower is not None:
                frame = state.follower.narrow(frame)
            bordering = maskset.bordering_matrix()
            current = (frame.masks, frame.instance_ids, boxes, maskset.areas(), bordering)
            raw = state.reuse.recall(*current) if state.reuse is not None else None
            if raw is None:
                raw = self._recover_order(frame, maskset, pairs)
                if state.reuse is not None:
                    state.reuse.keep(*current, raw)
            area = int(frame.image.shape[0]) * int(frame.image.shape[1])
            smoothed = state.smoother.update(raw, frame.instance_ids, bordering, area)
            return frame, self._layered(smoothed, frame)

        return self._frame(given, watch, ordered, on_empty=state.smoother.reset, stream=state)

    def _frame(self, given: Frame, watch: Any, ordered: Any, on_empty: Any = None,
               stream: StreamState | None = None) -> TransferResult:
        """One frame on the device, ``ordered(frame, maskset, overlapping pairs)`` giving the frame
        and its layered order; ``on_empty`` is called for a frame without instances; ``stream``
        holds a stream's memories."""
        caller = _current_stream(self.device)
        with self.engine._on_stream():
            worker = _current_stream(self.device)
            frame = device_frame(given, self.device)
            if not frame.masks.shape[0]:
                if on_empty is not None:
                    on_empty()
                result = self._unchanged(frame, watch)
            else:
                with watch.stage("order"):
                    maskset = MaskSet(frame.masks)
                    pairs = overlapping_pairs(maskset)
                    frame, order = ordered(frame, maskset, pairs)
                result = self._merge(frame, order, bool(pairs), watch, stream, maskset.boxes())
        _hand_over(result, worker, caller)
        return replace(result, image=like_tensor(result.image, given.image))

    def _recover_order(self, frame: Frame, maskset: MaskSet, pairs: list[tuple[int, int]]) -> OrderResult:
        """``Engine._recover_order`` with the masks (and their amodal completions) on the device."""
        engine, masks = self.engine, frame.masks
        image = self._order_image(frame.image)
        if pairs:
            if not engine._warned_overlap:
                engine._warned_overlap = True
                warnings.warn(
                    f"instance masks overlap ({len(pairs)} pair(s) in this frame): their shared pixels go to the "
                    "front instance once the order is known (result.reassigned); further overlaps are not reported",
                    stacklevel=4,
                )
            masks = dm.disjoint_for_order(masks, pairs, lambda pair: engine.order(MaskSet(pair), image, amodal=False))
            maskset = MaskSet(masks)
        if hasattr(engine.order, "_recover"):  # OrderRecovery: completions pasted on the device
            return engine.order._recover(maskset, image, modal=masks)
        result = engine.order(maskset, image, amodal=True)
        if result.amodal is None:
            raise TypeError(f"{type(engine.order).__name__} returned no amodal masks although amodal=True was asked")
        result.amodal = torch.as_tensor(np.asarray(result.amodal, dtype=bool), device=self.device)
        return result

    def _order_image(self, image: torch.Tensor) -> Any:
        """The image as the order stage takes it: the tensor for ``OrderRecovery`` (an RGB ORNet cuts
        its crops on the device; the shipped one reads no image), a host copy for any other stage."""
        from interorder_rt.order_recovery import OrderRecovery

        if not isinstance(self.engine.order, OrderRecovery):
            return image.cpu().numpy()
        return image if self.engine.order.config.rgb else None

    def _layered(self, order: OrderResult, frame: Frame) -> OrderResult:
        """``Engine._layered_for_merge`` with the joint evidence read around the joints on the device."""
        order = dm.with_joint_evidence(order, frame.masks, frame.targets, frame.keypoints)
        min_pixels = self.engine.min_evidence * frame.image.shape[0] * frame.image.shape[1]
        return replace(order, layering=merge_layering(order, frame.targets, min_pixels))

    def _given_order(self, order: OrderResult, masks: torch.Tensor) -> OrderResult:
        n = masks.shape[0]
        if order.order.shape != (n, n) or len(order.layering) != n:
            raise ValueError(f"the given order is for {order.order.shape[0]} instances, the frame has {n}")
        if order.amodal is None or tuple(order.amodal.shape) != tuple(masks.shape):
            raise ValueError(f"the given order needs amodal masks of shape {tuple(masks.shape)}")
        amodal = order.amodal if isinstance(order.amodal, torch.Tensor) else torch.from_numpy(np.asarray(order.amodal))
        return replace(order, amodal=amodal.to(self.device, torch.bool))

    def _merge(self, frame: Frame, order: OrderResult, overlapping: bool, watch: Any,
               stream: StreamState | None = None, boxes: np.ndarray | None = None) -> TransferResult:
        """``Engine._merge`` on the device; ``stream`` (in a stream) holds the memories, ``boxes``
        the masks' (N, 4) boxes."""
        engine = self.engine
        image, targets, masks = frame.image, frame.targets, frame.masks
        size = (int(image.shape[0]), int(image.shape[1]))
        owned, reassigned = dm.give_to_front(masks, order.layering, overlapping)
        modal = dm.grow_targets(owned, order.layering, targets, engine.removal_margin,
                                image if engine.removal_snap else None)
        with watch.stage("pose"):
            people = {t: self.pose(engine.source, kp, size) for t, kp in zip(targets, frame.keypoints)}
        with watch.stage("completion"):
            amodal = order.amodal | masks
            plan = dm.plan_removal(modal, amodal, order.layering, targets)
            seen, shown = in_sight(plan, people, order.layering)
            completed = self._complete_revealed(frame, modal, plan, seen, stream, boxes)
            background = self._fill_background(image, modal, order.layering, plan, completed, seen, shown, stream)
        with watch.stage("merge"):
            merged, visible = merge_transfer(background, image, modal, order.layering, plan, completed, people)
        timings = {stage: watch.ms.get(stage, 0.0) for stage in ("order", "pose", "completion", "merge")}
        return TransferResult(
            image=merged, order=order, amodal=amodal, targets=targets,
            person_rgb=_stacked([people[t].rgb for t in targets], (0, *image.shape), torch.uint8, image.device),
            person_masks=_stacked([people[t].mask for t in targets], (0, *size), torch.bool, image.device),
            visible_person_masks=_stacked([visible[t] for t in targets], (0, *size), torch.bool, image.device),
            timings=StageTimings(**timings, total=(time.perf_counter() - watch.start) * 1e3),
            instance_ids=tuple(frame.instance_ids or ()), reassigned=reassigned,
        )

    def _complete_revealed(self, frame: Frame, modal: torch.Tensor, plan: dm.DevicePlan, seen: list[int],
                           stream: StreamState | None = None,
                           boxes: np.ndarray | None = None) -> dict[int, torch.Tensor]:
        """Each ``seen`` revealing instance's image with its revealed region completed, the others'
        as the frame's (``Engine._complete_revealed``). In a still-camera stream the instance
        memory, given this frame's instances first, serves the regions it covers wholly (one it
        covers in part is completed afresh here) and keeps the new completions."""
        hidden = {k: frame.image for k in plan.needs_completion() if k not in seen}
        todo = list(seen)
        instances = stream.instances if stream is not None else None
        if instances is None:
            return {**hidden, **self._complete_fresh(frame.image, modal, plan, todo, stream)}
        ids = frame.instance_ids
        held = None if boxes is None else [tuple(map(int, b)) for b in boxes]
        instances.update(frame.image, modal, ids, skip=frame.targets, boxes=held)
        hits = {k: instances.recall(ids[k], plan.revealed[k]) for k in todo}
        recalled = {k: hit[0] for k, hit in hits.items() if hit is not None and hit[1] is None}  # all of it
        fresh = self._complete_fresh(frame.image, modal, plan, [k for k in todo if k not in recalled], stream)
        for k, layer in fresh.items():
            instances.remember(ids[k], layer, plan.revealed[k])
        return {**hidden, **recalled, **fresh}

    def _complete_fresh(self, image: torch.Tensor, modal: torch.Tensor, plan: dm.DevicePlan, todo: list[int],
                        stream: StreamState | None) -> dict[int, torch.Tensor]:
        """The completion stage's fills of the ``todo`` instances' revealed regions (cached in a stream)."""
        if not todo:
            return {}
        x0, y0, x1, y1 = plan.box  # the completions' inputs follow from these (revealed pixels lie in the box)
        key = (image, modal, plan.revealed[todo, y0:y1, x0:x1], torch.tensor([*todo, *plan.box]))
        return _cached(stream, "instances", key, lambda: self._completions(image, modal, plan, todo))

    def _completions(self, image: torch.Tensor, modal: torch.Tensor, plan: dm.DevicePlan,
                     todo: list[int]) -> dict[int, torch.Tensor]:
        """The completion stage's fills of the ``todo`` instances, each filler where it runs (module docstring)."""
        completion = self.engine.completion
        visible, amodal = modal[todo], modal[todo] | plan.revealed[todo]
        if getattr(completion, "instance", None) == "exemplar" and hasattr(completion, "_instance_options"):
            options = completion._instance_options()
            return {k: exemplar_fill_tensor(image, a & ~v, source=v, options=options)
                    for k, v, a in zip(todo, visible, amodal)}
        if getattr(completion, "instance", None) in ("mnet", "telea") and isinstance(completion, ContentCompletion):
            return dict(zip(todo, device_mnet.complete_many(completion, image, visible, amodal)))
        if hasattr(completion, "complete_many"):
            return dict(zip(todo, _on_host(completion.complete_many, image, visible, amodal)))
        return {k: _on_host(completion.complete, image, v, a) for k, v, a in zip(todo, visible, amodal)}

    def _fill_background(self, image: torch.Tensor, modal: torch.Tensor, layering: np.ndarray, plan: dm.DevicePlan,
                         completed: dict[int, torch.Tensor], seen: list[int], shown: torch.Tensor,
                         stream: StreamState | None = None) -> torch.Tensor:
        """``Engine._fill_background`` on the device: the revealed instance content in place, then
        (in a stream with a memory) what earlier frames showed of the freed background, then the
        filler's synthesis of the rest (all of it where a memory keeps it for later frames, else
        what is in sight: ``shown``), copying from no person but from the background put back."""
        revealed = [Layer(completed[k], plan.revealed[k]) for k in (int(i) for i in layering) if k in seen]
        staged = paint(image, revealed)[0] if revealed else image
        people = avoid = modal.any(dim=0)
        hole = with_unseen(plan.background, plan, seen)
        memory = stream.memory if stream is not None else None
        if memory is not None:
            memory.update(image, people)
            # painted: staged is a copy
            staged, rest = memory.recall(staged, hole, in_place=bool(revealed))
            if rest is not hole:  # the memory put background back: patches may come from it
                avoid = people & ~(hole & ~rest)
            hole = rest
        if not meet_within(hole, shown, plan.box):
            return staged
        avoid = avoid if self.engine._fill_avoids else None
        sight = shown if memory is None else None  # a memory keeps it whole: later frames may show any of it
        filled = _cached(stream, "background", (staged, hole, avoid, sight),
                         lambda: self._fill(staged, hole, avoid, sight))
        if memory is not None:
            memory.remember(filled, hole)  # a later frame freeing these pixels recalls this fill
        return filled

    def _fill(self, staged: torch.Tensor, hole: torch.Tensor, avoid: torch.Tensor | None,
              shown: torch.Tensor | None) -> torch.Tensor:
        """The completion stage's fill of the background ``hole`` (its ``shown`` pixels at least;
        None: all), copying from no ``avoid`` pixel."""
        completion = self.engine.completion
        if getattr(completion, "background", None) == "exemplar" and hasattr(completion, "exemplar"):
            return exemplar_fill_tensor(staged, hole, avoid=avoid, options=completion.exemplar, shown=shown)
        options = {"avoid": avoid.cpu().numpy()} if avoid is not None else {}
        if self.engine._fill_shows and shown is not None:
            options["shown"] = shown.cpu().numpy()
        return _on_host(completion.fill_background, staged, hole, **options)

    def _unchanged(self, frame: Frame, watch: Any) -> TransferResult:
        """A frame with no instances: its image (a copy), nothing recovered or painted."""
        h, w = int(frame.image.shape[0]), int(frame.image.shape[1])
        empty = OrderResult(order=np.zeros((0, 0), np.int8), growth=np.zeros((0, 0), np.float32),
                            layering=np.zeros(0, np.int64))
        none = torch.zeros((0, h, w), dtype=torch.bool, device=self.device)
        return TransferResult(
            image=frame.image.clone(), order=empty, amodal=none, targets=(),
            person_rgb=torch.zeros((0, h, w, 3), dtype=torch.uint8, device=self.device), person_masks=none,
            visible_person_masks=none,
            timings=StageTimings(order=0.0, pose=0.0, completion=0.0, merge=0.0,
                                 total=(time.perf_counter() - watch.start) * 1e3),
        )


def _cached(stream: StreamState | None, name: str, key: tuple, compute: Any) -> Any:
    """``compute()``, through the stream's fill cache when it has one (``compose.RepeatCache``)."""
    if stream is None or stream.cache is None:
        return compute()
    return stream.cache.get(name, key, compute)


def _stacked(planes: list[torch.Tensor], empty: tuple[int, ...], dtype: torch.dtype,
             device: torch.device) -> torch.Tensor:
    return torch.stack(planes) if planes else torch.zeros(empty, dtype=dtype, device=device)


def _current_stream(device: torch.device) -> Any:
    return torch.cuda.current_stream(device) if device.type == "cuda" else None


def _hand_over(result: TransferResult, worker: Any, caller: Any) -> None:
    """The caller's stream waits for the work queued on the Engine's, and the result's tensors are
    marked as used on it (so their memory is not handed out again while the caller reads them)."""
    if worker is None or worker == caller:
        return
    caller.wait_stream(worker)
    for value in (result.image, result.amodal, result.person_rgb, result.person_masks, result.visible_person_masks,
                  result.reassigned):
        if isinstance(value, torch.Tensor) and value.is_cuda:
            value.record_stream(caller)
