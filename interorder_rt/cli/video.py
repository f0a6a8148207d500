"""``interorder video``: move a source person into every frame of a video, a camera or a stream.

Each frame's instances come from per-frame annotations (a folder of JSON files or a JSON Lines
file, docs/annotations.md) or from a provider plugin, a Python callable ``frame image -> Frame``
named as ``module:function`` or ``path/to/file.py:function`` (run your segmenter there, e.g. with
``Frame.from_ultralytics``). The order is kept stable over time (``Engine.stream``); instances
without ids are tracked. A frame that fails is passed through unchanged or skipped, and logged
(``--on-error``); the output is never discarded for one bad frame.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import itertools
import json
import logging
import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

STAGE_NAMES = ("order", "pose", "completion", "merge")


def register(subparsers) -> None:
    from interorder_rt.cli.transfer import add_source_arguments

    parser = subparsers.add_parser(
        "video",
        help="occlusion-aware transfer of a source person into a video, camera or stream",
        description=__doc__.splitlines()[0],
    )
    add_source_arguments(parser)
    parser.add_argument("--video", required=True, metavar="IN",
                        help="reference video: a file, a camera index (0) or a stream URL (rtsp://, file://, ...)")
    frames = parser.add_mutually_exclusive_group(required=True)
    frames.add_argument("--annotations", metavar="DIR_OR_JSONL", help="per-frame annotations")
    frames.add_argument("--provider", metavar="MODULE:FUNCTION",
                        help="a callable frame image (H, W, 3) RGB -> Frame, e.g. mypkg.seg:frame or seg.py:frame")
    parser.add_argument("-o", "--output", metavar="OUT", help="output video (.mp4 or .gif)")
    parser.add_argument("--show", action="store_true", help="show the result live in a window (q or Esc stops)")
    parser.add_argument("--overlay", action="store_true", help="draw per-stage latency (ms) and FPS on each frame")
    parser.add_argument("--follow", action="store_true",
                        help="each frame's targets are candidates: replace one person, followed by id (the largest first)")
    parser.add_argument("--on-error", choices=("pass", "skip", "raise"), default="pass",
                        help="a frame that fails: pass it through unchanged (default), skip it, or stop")
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames (e.g. for a camera)")
    parser.add_argument("--fps", type=float, help="output frame rate (default: the input's, else 25)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run)


# ---------------------------------------------------------------- frame sources


def _annotation_parsers(path: Path) -> Iterator[tuple[str, Callable[[], Any]]]:
    """Per frame, where its annotation is and a function that parses it (errors stay per frame)."""
    from interorder_rt.io.annotations import load_annotation, parse_annotation

    if path.is_dir():
        for file in sorted(path.glob("*.json")):
            yield str(file), lambda file=file: load_annotation(file)
        return
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                where = f"{path} line {number}"
                yield where, lambda line=line, where=where: parse_annotation(json.loads(line), where=where)


def annotated_frames(images: Iterable[np.ndarray], annotations, video_name: str):
    """Per video frame, a ``FrameInput`` of its annotated frame, or of the error parsing it.

    A frame count that disagrees with the annotations raises ValueError.
    """
    from interorder_rt.bad_frames import FrameInput

    images = iter(images)
    count = 0
    for where, parse in _annotation_parsers(annotations.path):
        image = next(images, None)
        if image is None:
            raise ValueError(f"{video_name} has {count} frames but there are {len(annotations)} annotations")
        try:
            yield FrameInput(parse().frame(image), where=where)
        except (ValueError, TypeError, OSError) as exc:
            yield FrameInput(where=where, error=exc, image=image)
        count += 1
    if next(images, None) is not None:
        raise ValueError(f"{video_name} has more frames than the {len(annotations)} annotations")


def provided_frames(images: Iterable[np.ndarray], provider: Callable[[np.ndarray], Any]):
    """Per video frame, a ``FrameInput`` of the provider's frame, or of the error it raised."""
    from interorder_rt.bad_frames import FrameInput
    from interorder_rt.frame import Frame

    name = getattr(provider, "__name__", repr(provider))
    for image in images:
        try:
            frame = provider(image)
            if not isinstance(frame, (Frame, dict)):
                raise TypeError(f"the provider {name} returned {type(frame).__name__}, not a Frame")
        except Exception as exc:  # the plugin's own failure is this frame's, not the stream's
            yield FrameInput(error=exc, image=image)
        else:
            yield FrameInput(frame, image=image)


def load_provider(spec: str) -> Callable[[np.ndarray], Any]:
    """The callable named by ``module:function`` or ``path/to/file.py:function``."""
    module_name, sep, attr = spec.rpartition(":")
    if not (sep and module_name and attr):
        raise ValueError(f"--provider must be module:function or path/to/file.py:function, got {spec!r}")
    if module_name.endswith(".py"):
        path = Path(module_name)
        if not path.is_file():
            raise FileNotFoundError(f"provider file not found: {path}")
        loader_spec = importlib.util.spec_from_file_location(f"interorder_provider_{path.stem}", path)
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())  # as `python -m` would: the user's own modules
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise ValueError(f"--provider: cannot import {module_name!r}: {exc}") from None
    provider = getattr(module, attr, None)
    if not callable(provider):
        raise ValueError(f"--provider: {module_name} has no callable {attr!r}")
    return provider


def _counted(images: Iterable[np.ndarray], counter: list[int]) -> Iterator[np.ndarray]:
    for image in images:
        counter[0] += 1
        yield image


# ---------------------------------------------------------------- output


def latency_overlay(image: np.ndarray, timings, fps: float) -> np.ndarray:
    """``image`` with one line of per-stage milliseconds and the frame rate in its top-left corner."""
    import cv2

    stages = "  ".join(f"{s} {getattr(timings, s):.0f}" for s in STAGE_NAMES)
    text = f"{stages} ms | {timings.total:.0f} ms | {fps:.1f} FPS"
    font, pad = cv2.FONT_HERSHEY_SIMPLEX, 4
    scale = max(0.35, image.shape[0] / 720 * 0.7)
    thickness = max(1, round(scale * 2))
    (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    if w + 2 * pad > image.shape[1]:
        scale *= (image.shape[1] - 2 * pad) / w
        (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    out = image.copy()
    cv2.rectangle(out, (0, 0), (w + 2 * pad, h + base + 2 * pad), (0, 0, 0), thickness=-1)
    cv2.putText(out, text, (pad, pad + h), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


class _Rate:
    """Frames per second over the last ``window`` frames."""

    def __init__(self, window: int = 30) -> None:
        self.times: deque[float] = deque(maxlen=window)

    def tick(self) -> float:
        self.times.append(time.perf_counter())
        span = self.times[-1] - self.times[0]
        return (len(self.times) - 1) / span if span > 0 else 0.0


# ---------------------------------------------------------------- the command


def run(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from tqdm import tqdm

    from interorder_rt.bad_frames import FrameError
    from interorder_rt.cli.signals import exit_on_sigterm
    from interorder_rt.cli.transfer import load_source
    from interorder_rt.engine import Engine
    from interorder_rt.io.video import LiveWindow, VideoSource, VideoWriter, check_fps

    if not args.output and not args.show:
        raise ValueError("give an output file (-o OUT), a live window (--show), or both")
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames must be at least 1, got {args.max_frames}")
    logging.basicConfig(format="interorder video: %(message)s")
    provider = load_provider(args.provider) if args.provider else None
    source = VideoSource(args.video)
    annotations = None
    if provider is None:
        from interorder_rt.io.annotations import VideoAnnotations

        # Each frame's annotated size is checked against the video's before any mask is decoded.
        annotations = VideoAnnotations(args.annotations, size=source.size)
    with ExitStack() as stack:
        stack.enter_context(exit_on_sigterm())
        stack.enter_context(source)
        if annotations is not None and source.frame_count is not None and source.frame_count != len(annotations):
            raise ValueError(f"{args.video} has {source.frame_count} frames but there are {len(annotations)} "
                             "annotations")
        fps = check_fps(args.fps if args.fps is not None else source.fps or 25.0)
        engine = Engine(device=args.device)
        load_source(engine, args.source, args.source_ann)

        read = [0]
        images = _counted(source, read)
        frames = provided_frames(images, provider) if provider else annotated_frames(images, annotations, args.video)
        frames = itertools.islice(frames, args.max_frames)
        results = engine.stream(frames, on_error=args.on_error, follow=args.follow)
        writer = VideoWriter(args.output, fps) if args.output else None
        if writer is not None:  # an error or a signal below drops the partial file
            stack.push(lambda kind, exc, tb: writer.discard() if kind is not None else None)
        window = LiveWindow() if args.show else None
        total = min(filter(None, (source.frame_count, args.max_frames)), default=None)
        rate, total_ms, passed, failure = _Rate(), [], 0, None
        start = time.perf_counter()
        try:
            for result in tqdm(results, total=total, desc="video", unit="frame", disable=args.no_progress):
                fps_now = rate.tick()
                passed += result.error is not None
                if result.error is None:
                    total_ms.append(result.timings.total)
                image = latency_overlay(result.image, result.timings, fps_now) if args.overlay else result.image
                if writer is not None:
                    writer.write(image)
                if window is not None and not window.show(image):
                    break
        except KeyboardInterrupt:
            print("interorder video: stopped by the user", file=sys.stderr)
        except FrameError as exc:  # the frame source broke (or --on-error raise): keep what was written
            failure = exc
        elapsed = time.perf_counter() - start
        if window is not None:
            window.close()
        written = _finish(writer, failure)
    done = len(total_ms) + passed
    skipped = read[0] - done
    median = f", median {sorted(total_ms)[len(total_ms) // 2]:.0f} ms per frame" if total_ms else ""
    where = f"wrote {written}" if written else "showed"
    print(f"{where}: {done} frames ({passed} passed through, {skipped} skipped){median}; "
          f"{done / elapsed if elapsed > 0 else 0.0:.1f} frames/s")
    if failure is not None:
        raise failure
    return 0


def _finish(writer, failure: BaseException | None):
    """Close the output (kept if it holds any frame); the path written, or None."""
    if writer is None:
        return None
    if writer.frames_written == 0:
        writer.discard()
        if failure is None:
            raise ValueError("no frame could be processed; nothing was written")
        return None
    return writer.close()
