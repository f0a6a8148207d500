"""Removal in video with ground truth: the background memory on and off.

Three synthetic sequences with exact backgrounds: a real person (cut from a COCO photo by its
mask) walks across a real photo without people (scikit-image's ``data`` folder), filmed by a
**static** camera, or by one that **pans** (the view slides across a wider photo), or **sways**
in place before a static camera (steps of ``--sway`` pixels, two each way and back). Each frame
the person is removed by ``Engine.stream`` (a pose stage that returns nobody), with the memory
off, ``static`` and ``homography``. Scored over the *freed* pixels (the person's mask grown by 3
pixels, as in ``interorder eval removal``), from the second frame on:

- **PSNR** (dB) over all freed pixels, pooled over the sequence;
- **remembered**: the share of freed pixels the memory filled (an earlier frame showed them:
  outside the region the engine removed there, margin and outline included), and the PSNR
  over those alone (exact recall is 99 dB, the cap);
- **flicker** (static cameras): the mean absolute change, in grey levels, from one frame to the
  next of the freed pixels that neither frame's past showed (synthesised in both). The truth
  there does not change, so every change is flicker.
"""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np

from interorder_rt.eval.removal import SCORE_GROWTH, _grow, _Nobody, _STAND_IN_KEYPOINTS, background_photos, coco_people

MEMORIES = (None, "static", "homography")
CAP_DB = 99.0


def _psnr(sq_sum: float, count: int) -> float:
    if count == 0:
        return float("nan")
    mse = sq_sum / (3 * count)
    return CAP_DB if mse == 0 else min(CAP_DB, 10.0 * np.log10(255.0**2 / mse))


SWAY_STEPS = (0, 1, 2, 1, 0, -1, -2, -1)  # a swaying person's offsets from the middle, in steps, frame by frame


def walking_sequence(
    person: np.ndarray, mask: np.ndarray, backdrop: np.ndarray, frames: int, *, pan: int, size: tuple[int, int],
    sway: int = 0,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(frame, person mask, true background) per frame: the person crosses the view left to right
    while the view moves ``pan`` pixels right per frame across ``backdrop`` (0: a static camera);
    with ``sway`` it stays in the middle instead, stepping ``sway`` pixels a frame (``SWAY_STEPS``)."""
    h, w = size
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop, cmask = person[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1], mask[ys[0] : ys[-1] + 1, xs[0] : xs[-1] + 1]
    scale = 0.6 * h / crop.shape[0]
    dsize = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    crop = cv2.resize(crop, dsize, interpolation=cv2.INTER_AREA)
    cmask = cv2.resize(cmask.astype(np.float32), dsize, interpolation=cv2.INTER_LINEAR) > 0.5
    need_w = w + pan * (frames - 1)
    zoom = max(need_w / backdrop.shape[1], h / backdrop.shape[0])
    backdrop = cv2.resize(backdrop, (int(np.ceil(backdrop.shape[1] * zoom)), int(np.ceil(backdrop.shape[0] * zoom))),
                          interpolation=cv2.INTER_LINEAR)
    out = []
    for t in range(frames):
        truth = np.ascontiguousarray(backdrop[:h, t * pan : t * pan + w])
        x = int(round((w - dsize[0]) * t / max(frames - 1, 1)))
        if sway:
            x = (w - dsize[0]) // 2 + sway * SWAY_STEPS[t % len(SWAY_STEPS)]
        y = h - dsize[1] - h // 20
        person_mask = np.zeros((h, w), dtype=bool)
        person_mask[y : y + dsize[1], x : x + dsize[0]] = cmask
        frame = truth.copy()
        frame[y : y + dsize[1], x : x + dsize[0]][cmask] = crop[cmask]
        out.append((frame, person_mask, truth))
    return out


def evaluate_sequence(sequence, memory: str | None, device: str = "cpu") -> dict[str, float]:
    """Pooled scores of one sequence with one memory setting (module docstring)."""
    from interorder_rt.compose import grow_targets
    from interorder_rt.engine import Engine

    engine = Engine(pose=_Nobody(), device=device)
    engine.set_source(np.zeros((40, 20, 3), np.uint8), np.ones((40, 20), bool), _STAND_IN_KEYPOINTS)
    frames = ({"image": f, "masks": m[None], "target": 0, "keypoints": _STAND_IN_KEYPOINTS} for f, m, _ in sequence)
    sq_all = sq_seen = flicker = 0.0
    n_all = n_seen = n_flicker = 0
    static = _pan_of(sequence) == 0
    seen = None  # where an earlier frame showed the background, in the current view
    before = None  # the previous frame's output and the freed pixels no frame had shown then
    for t, ((frame, mask, truth), result) in enumerate(zip(sequence, engine.stream(frames, memory=memory))):
        freed = _grow(mask, SCORE_GROWTH)
        removed = grow_targets(mask[None], [0], [0], engine.removal_margin, image=frame if engine.removal_snap else None)[0]
        err = (result.image.astype(np.float64) - truth) ** 2
        unseen = freed if seen is None else freed & ~seen
        if t > 0:
            remembered = freed & seen
            sq_all, n_all = sq_all + err[freed].sum(), n_all + int(freed.sum())
            sq_seen, n_seen = sq_seen + err[remembered].sum(), n_seen + int(remembered.sum())
            if static:
                both = unseen & before[1]
                change = np.abs(result.image.astype(np.int16) - before[0]).mean(axis=-1)
                flicker, n_flicker = flicker + float(change[both].sum()), n_flicker + int(both.sum())
        before = (result.image.astype(np.int16), unseen)
        seen = _seen_next(seen, ~(freed | removed), sequence, t)  # what the engine left in sight
    return {"psnr": _psnr(sq_all, n_all), "remembered_share": n_seen / max(n_all, 1), "remembered_psnr": _psnr(sq_seen, n_seen),
            "flicker": flicker / n_flicker if n_flicker else None, "pixels": n_all}


def _seen_next(seen: np.ndarray | None, shown: np.ndarray, sequence, t: int) -> np.ndarray:
    """Where frames 0..t showed the background, in frame t + 1's view (integer pans only)."""
    seen = shown if seen is None else seen | shown
    if t + 1 >= len(sequence):
        return seen
    shift = _pan_of(sequence)
    moved = np.zeros_like(seen)
    moved[:, : seen.shape[1] - shift] = seen[:, shift:]
    return moved


def _pan_of(sequence) -> int:
    """The view's pan per frame, read back from the true backgrounds (0 for a static camera)."""
    a, b = sequence[0][2], sequence[1][2]
    for shift in range(0, a.shape[1] // 2):
        if np.array_equal(a[:, shift:], b[:, : a.shape[1] - shift]):
            return shift
    raise ValueError("the sequence's backgrounds are not an integer pan")


def register_cli(eval_subparsers) -> None:
    """Add ``interorder eval video-removal``."""
    parser = eval_subparsers.add_parser(
        "video-removal", help="person removal in video: background memory on and off (PSNR of freed pixels)",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--coco", required=True, metavar="JSON", help="COCO person annotations with the images beside them")
    parser.add_argument("--frames", type=int, default=12, help="frames per sequence (default 12)")
    parser.add_argument("--pan", type=int, default=6, help="pixels the panning camera moves per frame (default 6)")
    parser.add_argument("--sway", type=int, default=4, help="pixels a swaying person steps per frame (default 4)")
    parser.add_argument("--height", type=int, default=360, help="frame height (default 360; width 16:9)")
    parser.add_argument("--background", default="coffee", help="scikit-image photo behind the person (default coffee)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.set_defaults(run=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    from interorder_rt.io.atomic import atomic_open

    if args.frames < 2:
        raise ValueError(f"--frames must be at least 2, got {args.frames}")
    if args.sway < 1:
        raise ValueError(f"--sway must be at least 1 pixel, got {args.sway}")
    photos = background_photos()
    if args.background not in photos:
        raise ValueError(f"--background must be one of {', '.join(photos)}, got {args.background!r}")
    name, person, mask = next(coco_people(args.coco))
    size = (args.height, args.height * 16 // 9)
    rows = {}
    for camera, pan, sway in (("static", 0, 0), ("panning", args.pan, 0), ("swaying", 0, args.sway)):
        sequence = walking_sequence(person, mask, photos[args.background], args.frames, pan=pan, size=size, sway=sway)
        for memory in MEMORIES:
            rows[(camera, memory or "off")] = evaluate_sequence(sequence, memory, args.device)
    print(f"removal in {args.frames}-frame sequences of {name} on {args.background}, {size[1]}x{size[0]}, "
          f"pan {args.pan} px/frame, sway {args.sway} px/frame")
    print(f"{'camera':<9}{'memory':<12}{'PSNR dB':>9}{'remembered':>12}{'its PSNR':>10}{'flicker':>9}")
    for (camera, memory), r in rows.items():
        flicker = "-" if r["flicker"] is None else f"{r['flicker']:.2f}"
        print(f"{camera:<9}{memory:<12}{r['psnr']:>9.2f}{100 * r['remembered_share']:>11.1f}%{r['remembered_psnr']:>10.2f}"
              f"{flicker:>9}")
    if args.json:
        with atomic_open(args.json, "w") as f:
            json.dump({f"{c}/{m}": r for (c, m), r in rows.items()}, f, indent=2)
            f.write("\n")
    return 0
