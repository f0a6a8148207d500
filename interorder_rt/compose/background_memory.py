"""Background memory for video: what earlier frames showed behind a person who has moved on.

A stream keeps one :class:`BackgroundMemory`. Each frame, the pixels no instance covers are
written into it; when a person is removed, the freed pixels an earlier frame showed come back
from the memory, and only the never-seen rest is synthesised. That synthesis is kept too
(:meth:`BackgroundMemory.remember`), in the canvas beside what was seen: it comes back instead of
a new synthesis, and a later fill synthesises only the never-seen pixels it lacks (someone in
front moved off them), with the kept synthesis as their context. So a person standing or
swaying in place costs about one fill, not one a frame, and the fill does not flicker, whether
the camera stands still or pans. Once more than ``1 - REUSE_SHARE`` of it has been seen (the
person walks on), its pixels within ``REFRESH_BAND`` of what was seen are synthesised anew with
the context seen since, and the rest stays (``compose.instance_memory.KeptFill``, whose rules an
instance's kept completion follows too). The memory is a few canvases of fixed size (bounded
memory whatever the stream's length). It also keeps what each instance showed and had completed
(``instances``, ``compose.InstanceMemory``, which follows an instance that moves as a whole).

``align="static"`` (default) assumes a still camera: the canvas is the frame, and what comes
back is exactly what was seen. ``align="homography"`` follows a moving camera: ORB features
outside the instances, matched frame to frame, give a homography by RANSAC; the canvas lives in
the first frame's coordinates (padded by half a frame each side) and every frame, like each kept
synthesis, is resampled into it once and out of it once, so no error accumulates. Either way a
pixel is taken only where its resampling reads nothing but background. A camera cut (too few
matches, or the aligned memory disagreeing with the new frame's background) clears the memory.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from interorder_rt.compose.boxes import Box
from interorder_rt.compose.instance_memory import HostArrays, InstanceMemory, KeptFill

ALIGNS = ("static", "homography")
CUT_DIFFERENCE = 40.0  # mean |gray| difference on shared background above which the shot changed
CUT_SAMPLES = 4096  # background pixels compared per frame for the cut test
MIN_INLIERS = 40  # RANSAC inliers below which the homography is not trusted (a cut)
ORB_FEATURES = 1000
# ORB's FAST corner threshold: OpenCV's default, then a lower one for a frame whose background
# gives fewer than MIN_FEATURES corners at it (a flat or small frame: RANSAC would fail, a cut).
ORB_FAST_THRESHOLDS = (20, 5)
MIN_FEATURES = 2 * MIN_INLIERS

Features = tuple[np.ndarray, "np.ndarray | None"]  # (K, 2) float32 keypoint positions, their ORB descriptors


class BackgroundMemory:
    """The background seen so far in a stream (module docstring), in NumPy arrays
    (``backends.device_memory.DeviceBackgroundMemory`` keeps it in torch tensors)."""

    arrays = HostArrays

    def __init__(self, align: str = "static") -> None:
        if align not in ALIGNS:
            raise ValueError(f"align must be one of {ALIGNS}, got {align!r}")
        self.align = align
        self.cuts = 0  # camera cuts detected so far
        self.instances = InstanceMemory(self.arrays)
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new shot)."""
        self.canvas: np.ndarray | None = None  # (Hc, Wc, 3) uint8: the colours seen, then those synthesised
        self.seen: np.ndarray | None = None  # (Hc, Wc) bool
        self._to_canvas = np.eye(3)  # frame -> canvas homography of the latest frame
        self._previous: Features | None = None  # what _track matches: the latest frame's features
        self._background: np.ndarray | None = None  # the latest frame's uncovered pixels, (H, W) bool
        self._synthesis: KeptFill | None = None  # the canvas pixels synthesised while never seen
        self._extending = False  # whether recall used the kept synthesis this frame

    def update(self, image: np.ndarray, covered: np.ndarray) -> None:
        """Record ``image``'s background: the pixels not ``covered`` by any instance."""
        background = ~covered
        if self.canvas is not None and self.canvas.shape[:2] != self._canvas_shape(image.shape[:2]):
            self.reset()
        if self.canvas is None:
            self._start(image.shape[:2])
        elif self.align == "homography" and not self._track(image, background):
            self._cut(image.shape[:2])
        if self._disagrees(image, background):
            self._cut(image.shape[:2])
        self._record(image, background)
        self._background = background

    def recall(self, image: np.ndarray, hole: np.ndarray, *, in_place: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(``image`` with the remembered part of ``hole`` filled, the part left to synthesise);
        ``in_place`` writes into ``image`` itself instead of a copy. The remembered part is what
        an earlier frame showed, and what the kept synthesis filled (:meth:`remember`)."""
        arrays = self.arrays
        if self.canvas is None or not hole.any():
            return image, hole
        synthesis = self._synthesis
        if synthesis is not None and not synthesis.serves(self.seen):
            synthesis.refresh(self.seen)
        self._extending = synthesis is not None
        x0, y0, x1, y1 = arrays.box(hole)
        view, known = self._view(x0, y0, x1, y1)
        fill = hole[y0:y1, x0:x1] & known
        if synthesis is None and not fill.any():
            return image, hole
        rest = arrays.copy(hole)
        rest[y0:y1, x0:x1] &= ~fill
        out = image if in_place else arrays.copy(image)
        arrays.copy_masked(out[y0:y1, x0:x1], view, fill)
        return out, rest

    def remember(self, image: np.ndarray, filled: np.ndarray) -> None:
        """Keep ``image``'s synthesis of the never-seen hole ``filled`` (what :meth:`recall` left)
        for :meth:`recall` to return: it extends the kept synthesis that :meth:`recall` used this
        frame, or replaces it. With a moving camera it is kept where it lands in the canvas, with
        the background beside it where the canvas has not seen that (it fills the seam)."""
        box = self.arrays.box(filled)
        if box is None or self.canvas is None:
            self._synthesis = None
            return
        if self._synthesis is None:
            self._synthesis = KeptFill(self.arrays.mask_like(self.canvas), self.arrays)
        elif not self._extending:
            self._synthesis.clear()
        x0, y0, x1, y1 = box
        if self.align == "static":
            colours, kept = image[y0:y1, x0:x1], filled[y0:y1, x0:x1]
        else:
            shift = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1.0]])
            box = landing_box(self._to_canvas @ shift, (y1 - y0, x1 - x0), tuple(self.seen.shape))
            if box is None:  # the hole lands outside the canvas
                return
            x0, y0, x1, y1 = box
            colours, kept = self._sampled(image, [filled, self._background], self._to_frame(), box)
        kept = kept & ~self.seen[y0:y1, x0:x1]
        self.arrays.copy_masked(self.canvas[y0:y1, x0:x1], colours, kept)
        self._synthesis.add(box, kept)

    def _canvas_shape(self, size: tuple[int, int]) -> tuple[int, int]:
        h, w = size
        return (h, w) if self.align == "static" else (2 * h, 2 * w)

    def _start(self, size: tuple[int, int]) -> None:
        h, w = size
        self.canvas, self.seen = self._blank(self._canvas_shape(size))
        self._to_canvas = np.eye(3) if self.align == "static" else np.array([[1, 0, w / 2], [0, 1, h / 2], [0, 0, 1.0]])
        self._previous = None
        self._synthesis = None
        self._extending = False

    def _blank(self, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """An empty (Hc, Wc, 3) canvas and its (Hc, Wc) seen mask."""
        return np.zeros((*shape, 3), dtype=np.uint8), np.zeros(shape, dtype=bool)

    def _cut(self, size: tuple[int, int]) -> None:
        self.cuts += 1
        self._start(size)
        self.instances.reset()

    def _record(self, image: np.ndarray, background: np.ndarray) -> None:
        """Write the ``background`` pixels of ``image`` into the canvas (resampled into it once)."""
        if self.align == "static":
            self.arrays.copy_masked(self.canvas, image, background)
            self.seen |= background
            return
        if self._previous is None:  # a new shot: this frame is the next one's match
            self._previous = self._features(image, background)
        box = landing_box(self._to_canvas, tuple(background.shape), tuple(self.seen.shape))
        if box is None:  # the frame lands outside the canvas
            return
        x0, y0, x1, y1 = box
        to_frame = self._to_frame()
        inside = self.arrays.eroded(self._warped(background, to_frame, box, nearest=True))  # no colour blends in another
        self.arrays.copy_masked(self.canvas[y0:y1, x0:x1], self._warped(image, to_frame, box), inside)
        self.seen[y0:y1, x0:x1] |= inside

    def _sampled(self, src: np.ndarray, valid: list[np.ndarray], to_src: np.ndarray,
                 box: Box) -> tuple[np.ndarray, np.ndarray]:
        """``src`` resampled over the destination ``box`` where its nearest pixel is ``valid`` (in
        any of the planes): bilinear where that reads valid pixels only, the nearest pixel's colour
        at the rim, where it would read others; and where it was taken."""
        taken = None
        for plane in valid:
            landed = self._warped(plane, to_src, box, nearest=True)
            taken = landed if taken is None else taken | landed
        colours = self._warped(src, to_src, box)
        rim = taken & ~self.arrays.eroded(taken)
        self.arrays.copy_masked(colours, self._warped(src, to_src, box, nearest=True), rim)
        return colours, taken

    def _to_frame(self) -> np.ndarray:
        """The canvas -> frame homography of the latest frame (inverted as ``cv2.warpPerspective`` does)."""
        return cv2.invert(self._to_canvas, flags=cv2.DECOMP_LU)[1]

    def _warped(self, src: np.ndarray, to_src: np.ndarray, box: Box, nearest: bool = False) -> np.ndarray:
        """``src`` (an (H, W, 3) image, or an (H, W) mask, read with ``nearest``) resampled over
        the destination ``box``, each pixel read at ``to_src`` of it (0 outside ``src``)."""
        x0, y0, x1, y1 = box
        to_box = to_src @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1.0]])
        size = (x1 - x0, y1 - y0)
        flags = (cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
        if src.dtype == bool:
            return cv2.warpPerspective(src.view(np.uint8), to_box, size, flags=flags).view(bool)
        return cv2.warpPerspective(src, to_box, size, flags=flags)

    def _track(self, image: np.ndarray, background: np.ndarray) -> bool:
        """Moves ``_to_canvas`` to the new frame; False when the frames cannot be matched. The
        frame's features are kept as the next frame's match (each frame's are found once)."""
        now = self._features(image, background)
        to_previous = frame_homography(now, self._previous)
        self._previous = now
        if to_previous is None:
            return False
        self._to_canvas = self._to_canvas @ to_previous
        return True

    def _features(self, image: np.ndarray, background: np.ndarray) -> Features:
        """ORB features of the frame's background (:func:`orb_features`)."""
        return orb_features(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), background)

    def _disagrees(self, image: np.ndarray, background: np.ndarray) -> bool:
        """Whether the remembered background differs from this frame's (a camera cut)."""
        ys, xs, cy, cx, ok = cut_samples(background.shape, self._to_canvas, self.seen.shape)
        ok &= background[ys, xs]
        ok[ok] &= self.seen[cy[ok], cx[ok]]
        return shot_changed(image[ys[ok], xs[ok]], self.canvas[cy[ok], cx[ok]])

    def _view(self, x0: int, y0: int, x1: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
        """The memory over the frame box ``[x0, x1) x [y0, y1)``: colours, and where they are known
        (seen, or kept synthesis; with a moving camera, where the nearest canvas pixel is:
        :meth:`_sampled`)."""
        synthesis = self._synthesis
        if self.align == "static":
            known = self.seen[y0:y1, x0:x1]
            return self.canvas[y0:y1, x0:x1], known if synthesis is None else known | synthesis.filled[y0:y1, x0:x1]
        planes = [self.seen] if synthesis is None else [self.seen, synthesis.filled]
        return self._sampled(self.canvas, planes, box_to_canvas(self._to_canvas, x0, y0), (0, 0, x1 - x0, y1 - y0))


def orb_features(gray: np.ndarray, mask: np.ndarray) -> Features:
    """The ORB keypoints of a grey frame found where ``mask`` (its background) is set: their
    positions and descriptors (at the first of ``ORB_FAST_THRESHOLDS`` giving ``MIN_FEATURES``)."""
    where = mask.astype(np.uint8)
    for threshold in ORB_FAST_THRESHOLDS:
        keypoints, descriptors = cv2.ORB_create(ORB_FEATURES, fastThreshold=threshold).detectAndCompute(gray, where)
        if len(keypoints) >= MIN_FEATURES:
            break
    return np.float32([k.pt for k in keypoints]).reshape(-1, 2), descriptors


def frame_homography(now: Features, before: Features) -> np.ndarray | None:
    """The homography taking frame ``now``'s pixels to frame ``before``'s, from their ORB features
    matched both ways and RANSAC (2 pixels); None with fewer than ``MIN_INLIERS`` to trust."""
    (points1, des1), (points0, des0) = now, before
    if des0 is None or des1 is None or len(points0) < MIN_INLIERS or len(points1) < MIN_INLIERS:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(des1, des0)
    if len(matches) < MIN_INLIERS:
        return None
    src = points1[[m.queryIdx for m in matches]]
    dst = points0[[m.trainIdx for m in matches]]
    to_previous, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 2.0)
    if to_previous is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    return to_previous


def cut_samples(size: tuple[int, int], to_canvas: np.ndarray,
                canvas_shape: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """The cut test's grid of about ``CUT_SAMPLES`` frame pixels of a frame of ``size``: their rows
    and columns, the canvas rows and columns they map to, and whether those lie in the canvas."""
    h, w = size
    step = max(1, int(np.sqrt(h * w / CUT_SAMPLES)))
    ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step].reshape(2, -1)
    points = np.stack([xs, ys, np.ones_like(xs)]).astype(np.float64)
    mapped = to_canvas @ points
    cx, cy = np.rint(mapped[:2] / mapped[2]).astype(np.int64)
    ch, cw = canvas_shape
    return ys, xs, cy, cx, (cx >= 0) & (cy >= 0) & (cx < cw) & (cy < ch)


def shot_changed(now: np.ndarray, before: np.ndarray) -> bool:
    """Whether the (K, 3) uint8 background samples ``now`` differ from the remembered ``before``
    by more than ``CUT_DIFFERENCE`` grey levels on average (a camera cut; never on under 32)."""
    if len(now) < 32:
        return False
    weights = np.array([0.299, 0.587, 0.114])
    difference = now.astype(np.float64) @ weights - before.astype(np.float64) @ weights
    return float(np.mean(np.abs(difference))) > CUT_DIFFERENCE


def landing_box(to_canvas: np.ndarray, size: tuple[int, int], canvas_shape: tuple[int, int]) -> Box | None:
    """The canvas box around a frame of ``size`` mapped by ``to_canvas``, its corners taken a pixel
    outside the frame and the box widened by 2 canvas pixels, so that no pixel outside it samples
    the frame and the erosion at its edge reads nothing recorded; the whole canvas when the map
    sends part of the frame to infinity, None when the frame lands outside the canvas."""
    h, w = size
    ch, cw = canvas_shape
    corners = to_canvas @ np.array([[-1, w, -1, w], [-1, -1, h, h], [1, 1, 1, 1]], np.float64)
    if not (corners[2] > 0).all():
        return 0, 0, cw, ch
    xs, ys = corners[:2] / corners[2]
    x0, y0 = max(math.floor(xs.min()) - 2, 0), max(math.floor(ys.min()) - 2, 0)
    x1, y1 = min(math.ceil(xs.max()) + 3, cw), min(math.ceil(ys.max()) + 3, ch)
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def box_to_canvas(to_canvas: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """The map from the pixels of a frame box whose corner is ``(x0, y0)`` to the canvas (the
    frame's ``to_canvas`` after the box's shift, inverted twice as the memory has always done)."""
    shift = np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1.0]])
    return np.linalg.inv(np.linalg.inv(to_canvas @ shift))
