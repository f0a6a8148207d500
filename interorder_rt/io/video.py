"""Reading videos as RGB frames and writing them atomically (MP4, or GIF where MP4 cannot be made)."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import tempfile
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from interorder_rt.io.atomic import partial_prefix, remove_stale_partials


def read_video(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Yield the frames of a video file, a camera or a stream URL as (H, W, 3) uint8 RGB."""
    with VideoSource(path) as source:
        yield from source


def open_video(path: str | os.PathLike) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture`` of a file; FileNotFoundError / ValueError when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"video file not found: {path}")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise ValueError(f"cannot open video (corrupt or unsupported format): {path}")
    return capture


def open_capture(source: str | os.PathLike | int) -> cv2.VideoCapture:
    """An opened ``cv2.VideoCapture`` of a file path, a camera index (``0`` or ``"0"``) or a stream
    URL (``rtsp://``, ``http://``, ``file://``, anything FFmpeg reads)."""
    text = str(source)
    if isinstance(source, int) or text.isdigit():
        capture = cv2.VideoCapture(int(text))
        what = f"camera {text}"
    elif "://" in text:
        capture = cv2.VideoCapture(text, cv2.CAP_FFMPEG)
        what = f"stream {text}"
    else:
        return open_video(source)
    if not capture.isOpened():
        capture.release()
        raise ValueError(f"cannot open {what}")
    return capture


class VideoSource:
    """The frames of a video file, camera or stream URL (``open_capture``), read once, as RGB.

    ``fps`` is the rate it declares (``None`` when it declares none); ``frame_count`` the frames a
    file declares (``None`` for cameras, streams and files that do not say); ``size`` the
    ``(height, width)`` it declares (``None`` when it declares none).
    """

    def __init__(self, source: str | os.PathLike | int) -> None:
        self.name = str(source)
        self._capture = open_capture(source)
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and math.isfinite(fps) and 0 < fps < 1000 else None
        count = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)
        live = isinstance(source, int) or self.name.isdigit() or ("://" in self.name and not self.name.startswith("file:"))
        self.frame_count = int(count) if count and count > 0 and not live else None
        height, width = (int(self._capture.get(p)) for p in (cv2.CAP_PROP_FRAME_HEIGHT, cv2.CAP_PROP_FRAME_WIDTH))
        self.size = (height, width) if height > 0 and width > 0 else None

    def __iter__(self) -> Iterator[np.ndarray]:
        while True:
            ok, bgr = self._capture.read()
            if not ok:
                return
            yield np.ascontiguousarray(bgr[..., ::-1])

    def release(self) -> None:
        self._capture.release()

    def __enter__(self) -> "VideoSource":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def video_fps(path: str | os.PathLike, default: float = 25.0) -> float:
    """The frame rate a video declares, or ``default`` when it declares none."""
    with VideoSource(path) as source:
        return source.fps or default


class LiveWindow:
    """Shows frames in an OpenCV window; ``show`` returns False once the user pressed q or Esc."""

    def __init__(self, title: str = "interorder") -> None:
        self.title = title
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL)
        except cv2.error:
            raise ValueError("a live window needs OpenCV with a GUI (opencv-python, not opencv-python-headless) "
                             "and a display") from None

    def show(self, frame: np.ndarray) -> bool:
        cv2.imshow(self.title, np.ascontiguousarray(frame[..., ::-1]))
        return cv2.waitKey(1) & 0xFF not in (ord("q"), 27)

    def close(self) -> None:
        cv2.destroyWindow(self.title)


@functools.lru_cache(maxsize=1)
def mp4_supported() -> bool:
    """Whether OpenCV here can write an MP4 ('mp4v') that it can read back."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = os.path.join(tmp, "probe.mp4")
        writer = cv2.VideoWriter(probe, cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (32, 32))
        if not writer.isOpened():
            return False
        for value in (0, 255):
            writer.write(np.full((32, 32, 3), value, dtype=np.uint8))
        writer.release()
        capture = cv2.VideoCapture(probe)
        ok, _ = capture.read()
        capture.release()
        return bool(ok)


def check_fps(fps: float) -> float:
    """``fps`` as a float, or a ValueError unless it is finite and positive (OpenCV hangs on inf)."""
    fps = float(fps)
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a finite positive number, got {fps}")
    return fps


class VideoWriter:
    """Writes RGB frames to a video file that appears only once complete (a rename at ``close``).

    The requested suffix picks the format: ``.mp4`` (OpenCV, 'mp4v') or ``.gif`` (Pillow). An MP4
    request falls back to a GIF beside it when OpenCV cannot write MP4 here; ``path`` is the file
    actually written. Use as a context manager; an exception discards the partial file.
    """

    def __init__(self, path: str | os.PathLike, fps: float) -> None:
        path = Path(path)
        if path.suffix.lower() not in (".mp4", ".gif"):
            raise ValueError(f"video output must end in .mp4 or .gif, got {path.name!r}")
        self.fps = check_fps(fps)
        if path.suffix.lower() == ".mp4" and not mp4_supported():
            path = path.with_suffix(".gif")
        self.path = path
        self.frames_written = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(path, path.suffix)
        fd, self._tmp = tempfile.mkstemp(prefix=partial_prefix(path), suffix=path.suffix, dir=path.parent)
        os.close(fd)
        os.chmod(self._tmp, 0o644)  # mkstemp makes it private; a video is meant to be shared
        self._cv_writer: cv2.VideoWriter | None = None
        self._gif_frames: list[np.ndarray] = []
        self._size: tuple[int, int] | None = None

    def write(self, frame: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame; every frame must have the first one's size."""
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frames must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
        if self._size is None:
            self._size = frame.shape[:2]
            if self.path.suffix.lower() == ".mp4":
                fourcc = cv2.VideoWriter_fourcc(*"mp4v")
                self._cv_writer = cv2.VideoWriter(self._tmp, fourcc, self.fps, (frame.shape[1], frame.shape[0]))
                if not self._cv_writer.isOpened():
                    raise ValueError(f"OpenCV could not open an MP4 writer for {self.path}")
        elif frame.shape[:2] != self._size:
            raise ValueError(f"frame {self.frames_written} is {frame.shape[:2]}, the video is {self._size}")
        if self._cv_writer is not None:
            self._cv_writer.write(np.ascontiguousarray(frame[..., ::-1]))
        else:
            self._gif_frames.append(frame.copy())
        self.frames_written += 1

    def close(self) -> Path:
        """Finish the file and move it into place; returns the path written."""
        if not self.frames_written:
            self.discard()
            raise ValueError(f"no frames were written to {self.path}")
        if self._cv_writer is not None:
            self._cv_writer.release()
        else:
            from PIL import Image

            first, *rest = (Image.fromarray(f) for f in self._gif_frames)
            duration = round(1000 / self.fps)
            first.save(self._tmp, format="GIF", save_all=True, append_images=rest, duration=duration, loop=0)
        os.replace(self._tmp, self.path)
        return self.path

    def discard(self) -> None:
        """Drop the partial file."""
        if self._cv_writer is not None:
            self._cv_writer.release()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()
