"""``Engine``: occlusion-aware pose transfer of one source person into reference frames.

Per frame: ORNet recovers the order and amodal masks of the reference instances (a replaced
person's joints that another instance covers overrule it, ``compose.joints``); the pose stage
moves the source person into each replaced person's pose; the replaced people are removed (the
completion stage completes what they hid and fills the freed background, where the new people
leave it in sight: ``compose.sight``); the frame is repainted back to front with each new person
in its predecessor's slot (``interorder_rt.compose``).
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
import time
import warnings
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from interorder_rt.bad_frames import FrameError, FrameInput, check_policy, handle
from interorder_rt.compose import (
    Layer,
    OrderSmoother,
    BackgroundMemory,
    InstanceMemory,
    OrderReuse,
    RemovalPlan,
    RepeatCache,
    disjoint_for_order,
    give_to_front,
    grow_targets,
    merge_layering,
    listed_boxes,
    mask_boxes,
    merge_transfer,
    overlapping_pairs,
    plan_removal,
    with_joint_evidence,
    with_revealed,
)
from interorder_rt import _ext
from interorder_rt.backends.device_arrays import like
from interorder_rt.compose.boxes import Box, Part, mask_box_in, union_box, union_in, with_visible
from interorder_rt.compose.fringe import fringe_fill
from interorder_rt.compose.sight import in_sight, meet_within, with_unseen
from interorder_rt.frame import Frame, as_image, as_masks, check_index, check_share, check_stage
from interorder_rt.ops.inputs import is_device
from interorder_rt.ops.maskset import MaskSet
from interorder_rt.ops.order import OrderResult
from interorder_rt.pose.output import alpha_of
from interorder_rt.pose.protocol import PoseTransfer, SourcePerson
from interorder_rt.result import StageTimings, TransferResult
from interorder_rt.track import InstanceTracker, TargetFollower


class _Stopwatch:
    """Wall-clock milliseconds per named stage, and since creation."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1e3


class Engine:
    """The three-stage pipeline; each stage can be replaced.

    ``order`` recovers order and amodal masks (default: ORNet, ``OrderRecovery``); ``pose`` is any
    ``PoseTransfer`` (default: the training-free skinned mesh warp ``MeshWarp``); ``completion``
    fills hidden content and background (default: ``ContentCompletion`` with
    ``completion.ENGINE_FILLERS``: PatchMatch for the background, the classical fill MNet corrects
    for instances). Defaults load the shipped weights.

    ``backend`` (``"auto"``, ``"torch"``, ``"onnxruntime"`` or ``"tensorrt"``) runs the default
    ORNet and MNet (``OrderRecovery`` explains the choice). On a CUDA ``device`` the Engine queues
    its GPU work on a stream of its own (on the caller's when run under ``torch.cuda.stream``).
    There the frame stays on the GPU from input to output (``interorder_rt.backends.device_engine``
    says which stages cross to the host); frames may hold NumPy arrays, torch CUDA tensors or CuPy
    arrays, and the output image comes back in the input image's kind and device.

    ``min_evidence`` (a share of the image area) is the least order evidence for which a recovered
    "replaced person in front of k" is trusted when merging; below it, k stays on top of the new
    person (``interorder_rt.compose.layering`` explains why). 0 trusts every recovered relation.

    ``removal_margin`` grows each replaced person's region by that share of its box height (at
    least 2 pixels; 0: no margin) before removal, never into an instance in front of it
    (``compose.grow_targets``): real masks are a pixel or two loose. With ``removal_snap`` the
    region grows up to a margin further into the pixels next to it that look foreign to the
    background around them, the outline a looser mask misses (``compose.outline``). Overlapping masks are legal
    (``compose.overlap`` gives the rule; the first such frame warns once); the result's
    ``reassigned`` says which pixels moved to the front instance.
    """

    def __init__(
        self, order=None, pose: PoseTransfer | None = None, completion=None, device: str = "cpu",
        *, min_evidence: float = 2e-4, backend: str = "auto", removal_margin: float = 0.01,
        removal_snap: bool = True,
    ) -> None:
        min_evidence = check_share(min_evidence, "min_evidence")
        if not 0 <= removal_margin < 1:
            raise ValueError(f"removal_margin must be a share of the person's height in [0, 1), got {removal_margin}")
        if order is not None:
            check_stage(order, "order")
        if completion is not None:
            check_stage(completion, "completion", ("complete", "fill_background"))
        if pose is not None and not isinstance(pose, PoseTransfer):
            raise TypeError(f"pose must implement PoseTransfer (a __call__), got {type(pose).__name__}")
        if order is None:
            from interorder_rt.order_recovery import OrderRecovery

            order = OrderRecovery(device=device, backend=backend)
        if pose is None:
            from interorder_rt.pose.mesh_warp import MeshWarp

            pose = MeshWarp()
        if completion is None:
            from interorder_rt.completion import ENGINE_FILLERS, ContentCompletion

            completion = ContentCompletion(device=device, backend=backend, **ENGINE_FILLERS)
        self.order = order
        self.pose = pose
        self.completion = completion
        # A completion stage that takes ``avoid`` is told which pixels belong to instances (copy none),
        # one that takes ``shown`` which hole pixels the output shows (``compose.sight``).
        parameters = inspect.signature(completion.fill_background).parameters
        self._fill_avoids, self._fill_shows = "avoid" in parameters, "shown" in parameters
        self.min_evidence = float(min_evidence)
        self.removal_margin = float(removal_margin)
        self.removal_snap = bool(removal_snap)
        self.source: SourcePerson | None = None
        self.device, self._stream = _engine_stream(device)
        self._device_path = _device_path(self)
        self._warned_overlap = False

    def set_source(self, image, mask=None, keypoints=None, *, masks=None, index: int | None = None) -> SourcePerson:
        """Set the person to transfer (computed once, reused for every frame).

        ``image`` (H, W, 3) uint8, ``mask`` the person's (H, W) mask, ``keypoints`` (18, 2). When the
        person is occluded in its own image, pass every instance's ``masks`` (N, H, W) and the
        person's ``index`` among them (``mask`` may then be omitted): ORNet recovers the person's
        amodal mask and the completion stage completes the hidden parts before any warping. A pose
        stage with a ``prepare`` (the default's builds the person's mesh) prepares the person here,
        not in the first frame.
        """
        image = as_image(image)
        if keypoints is None:
            raise ValueError("set_source needs the source person's keypoints")
        if masks is not None:
            masks = as_masks(masks, image.shape[:2])
            if index is None:
                raise ValueError(f"index must name the person among the {masks.shape[0]} source masks")
            index = check_index(index, masks.shape[0], "index")
            given = None if mask is None else as_masks(np.asarray(mask)[None], image.shape[:2])[0]
            if given is not None and not np.array_equal(given, masks[index]):
                raise ValueError("mask differs from masks[index]; pass one or make them agree")
            image, mask = self._complete_source(image, masks, index)
        elif mask is None:
            raise ValueError("set_source needs the person's mask (or masks and index)")
        else:
            mask = as_masks(np.asarray(mask)[None], image.shape[:2])[0]
        source = SourcePerson(image=image, mask=mask, keypoints=keypoints)
        prepare = getattr(self.pose, "prepare", None)
        if callable(prepare):
            prepare(source)  # before it replaces the current source: a failure leaves that in place
        self.source = source
        return source

    def _complete_source(self, image: np.ndarray, masks: np.ndarray, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The source image with the person's hidden parts completed, and its amodal mask (r_a)."""
        amodal = self.order(MaskSet(masks), image, amodal=True).amodal[index] | masks[index]
        if (amodal & ~masks[index]).any():
            image = self.completion.complete(image, masks[index], amodal)
        return image, amodal

    def run(self, frame: Frame | None = None, *, order: OrderResult | None = None, **fields: Any) -> TransferResult:
        """Transfer the source into one reference frame.

        Pass a :class:`Frame` or its fields as keywords (``image``, ``masks``, ``target``,
        ``keypoints``). ``order`` replaces the recovered order (an ``OrderResult`` with ``amodal``),
        for instance a ground-truth one; its layering is used as given. A frame with no instances
        comes back unchanged.
        """
        self._require_source()
        watch = _Stopwatch()
        given = _frame_from(frame, fields)
        if self._device_path is not None:
            return self._device_path.run(given, order, watch)
        frame = given.checked()
        if not frame.masks.shape[0]:
            return _like_input(_unchanged(frame, watch), given)
        with self._on_stream():
            with watch.stage("order"):
                boxes = None
                if order is None:
                    maskset = _device_maskset(given.masks) or MaskSet(frame.masks)
                    order = self._layered_for_merge(self._recover_order(frame, maskset), frame)
                    boxes = listed_boxes(maskset.boxes())
                else:
                    order = _check_order(order, frame.masks)
            return _like_input(self._merge(frame, order, watch, boxes=boxes), given)

    def stream(
        self, frames: Iterable[Frame | dict | FrameInput], *, alpha: float = 0.3, margin: float = 2e-4,
        on_error: str = "raise", follow: bool = False, memory: str | None = "static",
    ) -> Iterator[TransferResult]:
        """Transfer the source into each frame of a sequence, with a temporally stable order.

        Frames carry ``instance_ids`` to match instances across frames; frames without them get ids
        from mask overlap with the frames before (``interorder_rt.track.InstanceTracker``).
        ``alpha`` and ``margin`` tune the smoothing (``interorder_rt.compose.OrderSmoother``).
        ``on_error`` says what a frame that cannot be processed does: ``"raise"`` a ``FrameError``
        naming it, ``"skip"`` it, or ``"pass"`` its image through (``interorder_rt.bad_frames``).
        ``follow``: each frame's targets are candidates; one person, followed by id, is replaced
        (``interorder_rt.track.TargetFollower``).
        ``memory`` fills freed background that earlier frames showed from a background memory
        (``compose.BackgroundMemory``): ``"static"`` for a still camera, ``"homography"`` for a
        moving one, None to synthesise every freed pixel. With ``"static"``, a fill is also reused
        while its never-seen hole stays the same, and a still instance's revealed part comes from
        what earlier frames showed or completed of it (``compose.InstanceMemory``).

        On a CUDA device each frame's per-pixel work runs on the device path
        (``backends.device_engine``), tracking, following and smoothing on its small host results;
        the memories and the fill cache are the same, their state held on the device
        (``backends.device_memory``).
        """
        self._require_source()
        check_policy(on_error)
        smoother = OrderSmoother(alpha=alpha, margin=margin)
        tracker = InstanceTracker()
        follower = TargetFollower() if follow else None
        reuse = OrderReuse() if getattr(self.order, "reads_image", True) is False else None
        device = self._device_stream(smoother, tracker, follower, reuse, memory)
        if device is not None:
            memory = None
        background_memory = BackgroundMemory(memory) if memory is not None else None
        cache = RepeatCache() if device is None and getattr(self.completion, "deterministic", False) else None
        items = iter(frames)
        for index in itertools.count():
            try:
                item = next(items)
            except StopIteration:
                return
            except Exception as exc:  # the frame source itself broke: no frame after it can come
                raise FrameError(index, None, exc) from exc
            item = item if isinstance(item, FrameInput) else FrameInput(item)
            try:
                if item.error is not None:
                    raise item.error
                if device is not None:
                    given = item.frame if isinstance(item.frame, Frame) else Frame(**item.frame)
                    result = self._device_path.stream_frame(given, device, _Stopwatch())
                else:
                    result = self._stream_frame(item.frame, smoother, tracker, follower, background_memory, cache, reuse)
            except Exception as exc:
                image = item.image if item.image is not None else _field(item.frame, "image")
                result = handle(on_error, FrameError(index, item.where, exc), image)
                if result is None:
                    continue
            yield result

    def _stream_frame(
        self, item: Frame | dict, smoother: OrderSmoother, tracker: InstanceTracker, follower: TargetFollower | None,
        memory: BackgroundMemory | None, cache: RepeatCache | None, reuse: OrderReuse | None = None,
    ) -> TransferResult:
        watch = _Stopwatch()
        given = item if isinstance(item, Frame) else Frame(**item)
        untracked = given.instance_ids is None
        frame = given.checked()
        if not frame.masks.shape[0]:
            smoother.reset()  # every instance left the frame
            return _like_input(_unchanged(frame, watch), given)
        with self._on_stream():
            with watch.stage("order"):
                maskset = _device_maskset(given.masks) or MaskSet(frame.masks)
                if untracked:
                    frame = replace(frame, instance_ids=tracker.update(frame.masks, maskset.boxes()))
                if follower is not None:
                    frame = follower.narrow(frame)
                bordering = maskset.bordering_matrix()
                current = (frame.masks, frame.instance_ids, maskset.boxes(), maskset.areas(), bordering)
                raw = reuse.recall(*current) if reuse is not None else None
                if raw is None:
                    raw = self._recover_order(frame, maskset)
                    if reuse is not None:
                        reuse.keep(*current, raw)
                area = frame.image.shape[0] * frame.image.shape[1]
                order = smoother.update(raw, frame.instance_ids, bordering, area)
                order = self._layered_for_merge(order, frame)
            return _like_input(self._merge(frame, order, watch, memory, cache, listed_boxes(maskset.boxes())), given)

    def _device_stream(self, smoother: OrderSmoother, tracker: InstanceTracker, follower: TargetFollower | None,
                       reuse: OrderReuse | None, memory: str | None) -> Any:
        """On the device path, the stream's state for ``DevicePath.stream_frame``, with its
        background memory (``memory``) and fill cache held on the device; None on the host path."""
        if self._device_path is None:
            return None
        from interorder_rt.backends.device_engine import StreamState
        from interorder_rt.backends.device_memory import DeviceBackgroundMemory, DeviceRepeatCache

        background = DeviceBackgroundMemory(memory, self._device_path.device) if memory is not None else None
        cache = DeviceRepeatCache() if getattr(self.completion, "deterministic", False) else None
        return StreamState(smoother, tracker, follower, reuse, background, cache)

    def _on_stream(self):
        """The Engine's GPU work goes on its own stream (or the caller's, ``backends.torch_cuda``)."""
        if self._stream is None:
            return contextlib.nullcontext()
        from interorder_rt.backends.torch_cuda import on_engine_stream

        return on_engine_stream(self.device, self._stream)

    def _require_source(self) -> None:
        if self.source is None:
            raise ValueError("no source person: call engine.set_source(image, mask, keypoints) first")

    def _layered_for_merge(self, order: OrderResult, frame: Frame) -> OrderResult:
        """``order`` overruled where a replaced person's joints show who hides it
        (``compose.with_joint_evidence``), with the layering the merge paints in
        (``compose.merge_layering``)."""
        order = with_joint_evidence(order, frame.masks, frame.targets, frame.keypoints)
        min_pixels = self.min_evidence * frame.image.shape[0] * frame.image.shape[1]
        return replace(order, layering=merge_layering(order, frame.targets, min_pixels))

    def _recover_order(self, frame: Frame, maskset: MaskSet | None = None) -> OrderResult:
        maskset = maskset or MaskSet(frame.masks)
        pairs = overlapping_pairs(maskset)
        if pairs:
            if not self._warned_overlap:
                self._warned_overlap = True
                warnings.warn(
                    f"instance masks overlap ({len(pairs)} pair(s) in this frame): their shared pixels go to the "
                    "front instance once the order is known (result.reassigned); further overlaps are not reported",
                    stacklevel=3,
                )
            recover = lambda pair: self.order(pair, frame.image, amodal=False)  # noqa: E731
            maskset = MaskSet(disjoint_for_order(frame.masks, pairs, recover))
        result = self.order(maskset, frame.image, amodal=True)
        if result.amodal is None:
            raise TypeError(f"{type(self.order).__name__} returned no amodal masks although amodal=True was asked")
        return result

    def _merge(
        self, frame: Frame, order: OrderResult, watch: _Stopwatch, memory: BackgroundMemory | None = None,
        cache: RepeatCache | None = None, boxes: list[Box | None] | None = None,
    ) -> TransferResult:
        """Pose, completion and painting of one checked frame under a known order (timed).

        ``memory`` (in a stream) fills what earlier frames showed of the freed background first;
        ``cache`` (in a stream) reuses fills whose inputs repeat exactly (``compose.RepeatCache``).
        ``boxes``: the masks' tight boxes when known (``compose.mask_boxes``).
        """
        image, targets = frame.image, frame.targets
        size = image.shape[:2]
        if boxes is None:
            boxes = mask_boxes(frame.masks)
        # each box still holds its mask's pixels after give_to_front and grow_targets, but a replaced
        # person's, which the margin grows (the plan's box holds those)
        owned, reassigned = give_to_front(frame.masks, order.layering, boxes)
        modal = grow_targets(owned, order.layering, targets, self.removal_margin, boxes,
                             image if self.removal_snap else None)
        with watch.stage("pose"):
            moved = {t: self.pose(self.source, kp, size) for t, kp in zip(targets, frame.keypoints)}
            people = {t: Layer(out[0], out[1], alpha_of(out), getattr(out, "box", None)) for t, out in moved.items()}
        with watch.stage("completion"):
            amodal = with_visible(np.asarray(order.amodal, dtype=bool), frame.masks, boxes)
            plan = plan_removal(modal, amodal, order.layering, targets)
            seen, shown = in_sight(plan, people, order.layering)
            instances = memory.instances if memory is not None else None
            if instances is not None:
                instances.update(image, modal, frame.instance_ids, skip=targets, boxes=boxes)
            completed = self._complete_revealed(image, modal, plan, seen, boxes, cache, instances,
                                                frame.instance_ids)
            reach = [plan.box if k in targets else box for k, box in enumerate(boxes)]
            background = self._fill_background(image, modal, order.layering, plan, completed, seen, shown, memory,
                                               cache, reach)
        with watch.stage("merge"):
            # The background holds every revealed pixel of the front-most instance revealing it
            # (tests/test_parts.py: the paint keeps what each instance's own completion would give);
            # made for this frame, it is painted over in place unless a stream's cache keeps it (read-only).
            merged, visible = merge_transfer(background, image, modal, order.layering, plan, None, people, boxes,
                                             in_place=background.flags.writeable)
        timings = {stage: watch.ms.get(stage, 0.0) for stage in ("order", "pose", "completion", "merge")}
        total = (time.perf_counter() - watch.start) * 1e3
        return TransferResult(
            image=merged,
            order=order,
            amodal=amodal,
            targets=targets,
            person_rgb=_per_target([people[t].rgb for t in targets], image.shape, np.uint8),
            person_masks=_per_target([people[t].mask for t in targets], size, bool),
            visible_person_masks=_per_target([visible[t] for t in targets], size, bool),
            timings=StageTimings(**timings, total=total),
            instance_ids=tuple(frame.instance_ids or ()),
            reassigned=reassigned,
        )

    def _complete_revealed(
        self, image: np.ndarray, modal: np.ndarray, plan: RemovalPlan, seen: Sequence[int], boxes: list[Box | None],
        cache: RepeatCache | None = None, instances: InstanceMemory | None = None, ids: Sequence[int] | None = None,
    ) -> dict[int, Part]:
        """Each revealing instance's completed content, as a part of the frame holding its revealed
        region (one batch if the stage can).

        Only the ``seen`` instances are completed; the others' revealed regions lie wholly under new
        people (``compose.sight``) and keep the frame's pixels. ``instances`` (a still-camera
        stream's ``compose.InstanceMemory``) serves what it holds of the revealed regions, the rest
        is completed from it, and it keeps the new completions."""
        hidden = {k: Part.whole(image) for k in plan.needs_completion() if k not in seen}
        todo = list(seen)
        if instances is not None and ids is not None:
            recalled = {k: instances.recall(ids[k], plan.revealed[k], within=plan.box) for k in todo}
            hits = {k: hit for k, hit in recalled.items() if hit is not None}
            lacking = {k: hit for k, hit in hits.items() if hit[1] is not None}  # the rest from the memory's layer
            for k, part in self._complete_left(lacking, modal, plan, boxes).items():
                instances.remember(ids[k], part.rgb, lacking[k][1], at=part.box[:2], within=plan.box, extend=True)
            done = {k: Part.whole(layer) for k, (layer, _) in hits.items()}  # the layers are views: now complete
            todo = [k for k in todo if k not in done]
            fresh = self._complete_fresh(image, modal, plan, todo, boxes, cache)
            for k, part in fresh.items():
                instances.remember(ids[k], part.rgb, plan.revealed[k], at=part.box[:2], within=plan.box)
            return {**hidden, **done, **fresh}
        return {**hidden, **self._complete_fresh(image, modal, plan, todo, boxes, cache)}

    def _complete_left(self, lacking: dict[int, tuple[np.ndarray, np.ndarray]], modal: np.ndarray,
                       plan: RemovalPlan, boxes: list[Box | None]) -> dict[int, Part]:
        """The fills of the revealed pixels each memory lacks: ``lacking[k]`` is (the memory's layer
        of instance k, its ``left`` pixels), completed from its visible pixels (``modal[k]``, held by
        ``boxes[k]``) and the rest of its revealed ones as the layer holds them: a fringe on its box
        by ``compose.fringe_fill``, anything deeper by the completion stage (every instance at once
        where it takes an image per instance)."""
        parts: dict[int, Part] = {}
        deeper = []  # (k, layer, known, left, tight box)
        for k, (layer, left) in lacking.items():
            h, w = left.shape
            tx0, ty0, tx1, ty1 = mask_box_in(left, plan.box)
            x0, y0, x1, y1 = max(tx0 - 1, 0), max(ty0 - 1, 0), min(tx1 + 1, w), min(ty1 + 1, h)
            window = (slice(y0, y1), slice(x0, x1))
            rgb = fringe_fill(layer[window], modal[k][window] | plan.revealed[k][window], left[window])
            if rgb is not None:
                parts[k] = Part((x0, y0, x1, y1), rgb)
                continue
            reach = union_box([boxes[k], plan.box])
            x0, y0, x1, y1 = reach
            known = np.zeros(left.shape, bool)
            known[y0:y1, x0:x1] = (modal[k, y0:y1, x0:x1] | plan.revealed[k, y0:y1, x0:x1]) & ~left[y0:y1, x0:x1]
            deeper.append((k, layer, known, left, mask_box_in(known | left, reach)))
        if not deeper:
            return parts
        ks, layers, knowns, lefts, tights = zip(*deeper)
        stage = self.completion
        if hasattr(stage, "complete_layers"):
            filled = stage.complete_layers(layers, knowns, lefts, tights)
        elif hasattr(stage, "complete_parts"):
            filled = [stage.complete_parts(layer, [known], [left], [tight])[0]
                      for layer, known, left, tight in zip(layers, knowns, lefts, tights)]
        else:
            filled = [Part.whole(stage.complete(layer, known, known | left)) for layer, known, left in
                      zip(layers, knowns, lefts)]
        for k, layer, part in zip(ks, layers, filled):
            parts[k] = part if part is not None else Part.whole(layer)
        return parts

    def _complete_fresh(
        self, image: np.ndarray, modal: np.ndarray, plan: RemovalPlan, todo: list[int], boxes: list[Box | None],
        cache: RepeatCache | None,
    ) -> dict[int, Part]:
        """The completion stage's fills of the ``todo`` instances' revealed regions (cached in a stream).

        ``boxes[k]`` holds ``modal[k]``; revealed pixels lie in the plan's box."""
        if not todo:
            return {}

        def complete() -> dict[int, Part]:
            if hasattr(self.completion, "complete_parts"):
                tight = [union_box([mask_box_in(modal[k], boxes[k]), mask_box_in(plan.revealed[k], plan.box)])
                         for k in todo]
                parts = self.completion.complete_parts(image, [modal[k] for k in todo],
                                                       [plan.revealed[k] for k in todo], tight)
                return {k: part for k, part in zip(todo, parts) if part is not None}
            visible, amodal = modal[todo], modal[todo] | plan.revealed[todo]
            if hasattr(self.completion, "complete_many"):
                images = self.completion.complete_many(image, visible, amodal)
            else:
                images = [self.completion.complete(image, v, a) for v, a in zip(visible, amodal)]
            return {k: Part.whole(out) for k, out in zip(todo, images)}

        if cache is None:
            return complete()
        x0, y0, x1, y1 = plan.box  # the completions' inputs follow from these (revealed pixels lie in the box)
        key = (np.array([*todo, *plan.box]), plan.revealed[todo, y0:y1, x0:x1], modal, image)
        # all but the image made for this frame (modal: grow_targets' copy); the image may be the caller's
        return cache.get("instances", key, complete, fresh=(0, 1, 2))

    def _fill_background(
        self, image: np.ndarray, modal: np.ndarray, layering: np.ndarray, plan: RemovalPlan,
        completed: dict[int, Part], seen: Sequence[int], shown: np.ndarray, memory: BackgroundMemory | None,
        cache: RepeatCache | None, reach: list[Box | None],
    ) -> np.ndarray:
        """The frame with the revealed instance content in place and the rest of the hole filled.

        Revealed content goes in first so that the background filler sees no pixel of the
        removed people as context; the filler copies from no instance (``avoid``) where it can,
        but from the background the stream's memory put back. What the instances not ``seen``
        reveal was not completed and counts as hole; only the ``shown`` hole pixels need a fill
        (``compose.sight``), but a stream's memory keeps the fill for later frames: it gets all of it.
        ``reach[k]`` holds ``modal[k]``.
        """
        staged = with_revealed(image, plan, completed, layering)
        people = avoid = union_in(modal, reach)
        hole = with_unseen(plan.background, plan, seen)
        if memory is not None:
            memory.update(image, people)
            staged, rest = memory.recall(staged, hole, in_place=True)
            if rest is not hole:  # the memory put background back: patches may come from it
                x0, y0, x1, y1 = plan.box
                avoid = people.copy()
                avoid[y0:y1, x0:x1] &= ~(hole[y0:y1, x0:x1] & ~rest[y0:y1, x0:x1])
            hole = rest
        if not meet_within(hole, shown, plan.box):
            return staged
        options = {"avoid": avoid} if self._fill_avoids else {}
        if self._fill_shows and memory is None:  # a memory keeps it whole: later frames may show any of it
            options["shown"] = shown

        def fill() -> np.ndarray:
            return self.completion.fill_background(staged, hole, **options)

        key = (hole, *options.values(), staged)  # all made for this frame
        filled = fill() if cache is None else cache.get("background", key, fill, fresh=range(len(key)))
        if memory is not None:
            memory.remember(filled, hole)  # a later frame freeing these pixels recalls this fill
        return filled


def _per_target(planes: list[np.ndarray], shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """(K, *shape) ``dtype`` of the K frame-sized planes made for this frame's replaced people: one
    person's plane as a view of it, not a copy (three planes a frame: 1.7 ms at 1080p)."""
    if not planes:
        return np.zeros((0, *shape), dtype)
    stacked = planes[0][None] if len(planes) == 1 else np.stack(planes)
    return stacked.astype(dtype, copy=False)


def _unchanged(frame: Frame, watch: _Stopwatch) -> TransferResult:
    """The result for a frame with no instances: its image (a copy), nothing recovered or painted."""
    h, w = frame.image.shape[:2]
    empty = OrderResult(order=np.zeros((0, 0), np.int8), growth=np.zeros((0, 0), np.float32),
                        layering=np.zeros(0, np.int64), amodal=np.zeros((0, h, w), bool))
    total = (time.perf_counter() - watch.start) * 1e3
    return TransferResult(
        image=frame.image.copy(), order=empty, amodal=empty.amodal, targets=(),
        person_rgb=np.zeros((0, h, w, 3), np.uint8), person_masks=np.zeros((0, h, w), bool),
        visible_person_masks=np.zeros((0, h, w), bool),
        timings=StageTimings(order=0.0, pose=0.0, completion=0.0, merge=0.0, total=total),
    )


def _frame_from(frame: Frame | None, fields: dict[str, Any]) -> Frame:
    if frame is not None and fields:
        raise TypeError(f"pass a Frame or its fields, not both (got extra {sorted(fields)})")
    if frame is not None:
        if not isinstance(frame, Frame):
            raise TypeError(f"frame must be a Frame, got {type(frame).__name__}")
        return frame
    missing = [name for name in ("image", "masks", "target", "keypoints") if name not in fields]
    if missing:
        raise TypeError(f"run() is missing frame field(s): {', '.join(missing)}")
    return Frame(**fields)


def _engine_stream(device: str) -> tuple[Any, Any]:
    """The Engine's device, and a non-default CUDA stream of its own on a CUDA device (else None)."""
    import torch

    device = torch.device(device)
    return device, torch.cuda.Stream(device) if device.type == "cuda" and torch.cuda.is_available() else None


def _device_path(engine: Engine) -> Any:
    """On a CUDA device the CUDA kernels can use, the path that keeps each frame there
    (``backends.device_engine``); else None (the host path)."""
    if engine.device.type != "cuda" or _ext.gpu_count() == 0:
        return None
    from interorder_rt.backends.device_engine import DevicePath

    return DevicePath(engine, engine.device)


def _device_maskset(masks: Any) -> MaskSet | None:
    """CUDA masks packed where they are, by the CUDA kernels (None for host masks, or no GPU)."""
    return MaskSet(masks) if is_device(masks) and _ext.gpu_count() > 0 else None


def _like_input(result: TransferResult, given: Frame) -> TransferResult:
    """``result`` with its image in the kind and on the device of the frame's image (``backends.device_arrays``)."""
    return replace(result, image=like(result.image, given.image))


def _field(frame: Any, name: str) -> Any:
    """A field of a Frame or of a dict of frame fields (None when absent)."""
    return frame.get(name) if isinstance(frame, dict) else getattr(frame, name, None)


def _check_order(order: OrderResult, masks: np.ndarray) -> OrderResult:
    """A user-given order must match the frame's instances and carry amodal masks."""
    n = masks.shape[0]
    if order.order.shape != (n, n) or len(order.layering) != n:
        raise ValueError(f"the given order is for {order.order.shape[0]} instances, the frame has {n}")
    if order.amodal is None or order.amodal.shape != masks.shape:
        raise ValueError(f"the given order needs amodal masks of shape {masks.shape}")
    return order
