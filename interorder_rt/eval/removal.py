"""Removal quality on real photos with ground truth: real people pasted onto real backgrounds.

Each case cuts a person out of a COCO photo by its annotated mask (``--coco``, standard COCO
JSON with the images beside it), scales it to 45-75 % of a background's height and pastes it
onto a real photo without people (scikit-image's ``data`` folder: rocket, coffee, chelsea, brick,
grass, gravel, motorcycle_left). The paste uses the mask grown by 2 pixels (``--loose``), as a
loose real mask misses the person's edge, while the remover is given the mask as annotated. The
person is then removed (the engine with a pose stage that returns nobody) and the result is
compared with the background photo:

- **PSNR** (dB) inside the hole, the given mask grown by one pixel more than the paste, one value
  per case, averaged;
- **SSIM** (Gaussian window, sigma 1.5) over the person's box grown as the hole, averaged;
- **texture ratio**: mean absolute Laplacian (gray) of the result inside the hole over that of
  the truth, pooled over all cases: 1 is as textured as the truth, a smear is near 0.

Rows: OpenCV Telea and Navier-Stokes (radius 3) over the same grown region the new default
removes, the engine as it shipped before (MNet fill, no removal margin), the same with the new
removal region (the fill alone compared), the new default without its outline snap
(``Engine(removal_snap=False)``), and the new default.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from interorder_rt.eval.image_metrics import ssim

BACKGROUNDS = ("rocket.jpg", "coffee.png", "chelsea.png", "brick.png", "grass.png", "gravel.png", "motorcycle_left.png")
METHODS = ("telea", "navier-stokes", "previous default", "previous + margin", "no outline snap", "new default")
PASTE_GROWTH = 2  # pixels the pasted region extends past the given mask, by default (--loose)
SCORE_GROWTH = PASTE_GROWTH + 1  # pixels the scored hole extends past the given mask, then
MIN_PERSON_AREA = 2500  # annotated pixels; smaller people say little
SIZE_RANGE = (0.45, 0.75)  # pasted person height / background height


@dataclass
class Case:
    """One pasted person: the composite, the mask the remover gets, the truth and the scored hole."""

    pasted: np.ndarray
    mask: np.ndarray
    truth: np.ndarray
    hole: np.ndarray
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the grown person box
    name: str


@dataclass
class RemovalScore:
    """Per-case PSNR and SSIM, pooled Laplacian sums."""

    psnr: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)
    texture_fill: float = 0.0
    texture_truth: float = 0.0

    def add(self, output: np.ndarray, case: Case) -> None:
        diff = output[case.hole].astype(np.float64) - case.truth[case.hole]
        mse = float(np.mean(diff**2))
        self.psnr.append(99.0 if mse == 0 else 10.0 * np.log10(255.0**2 / mse))
        x0, y0, x1, y1 = case.box
        self.ssim.append(ssim(output[y0:y1, x0:x1], case.truth[y0:y1, x0:x1]))
        self.texture_fill += float(_laplacian(output)[case.hole].sum())
        self.texture_truth += float(_laplacian(case.truth)[case.hole].sum())

    def summary(self) -> dict[str, float]:
        return {
            "cases": len(self.psnr),
            "psnr": float(np.mean(self.psnr)),
            "ssim": float(np.mean(self.ssim)),
            "texture_ratio": self.texture_fill / max(self.texture_truth, 1e-9),
        }


def _laplacian(image: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.abs(cv2.Laplacian(gray, cv2.CV_32F))


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.dilate(mask.astype(np.uint8), disc).astype(bool)


def background_photos() -> dict[str, np.ndarray]:
    """The photos without people that ship inside scikit-image's wheel, as RGB uint8."""
    try:
        import skimage.data
    except ImportError as exc:
        raise RuntimeError("interorder eval removal needs scikit-image: pip install 'interorder_rt[eval]'") from exc
    folder = Path(skimage.data.__file__).parent
    photos = {}
    for name in BACKGROUNDS:
        bgr = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
        if bgr is None:
            raise RuntimeError(f"scikit-image's data folder lacks {name} ({folder})")
        photos[Path(name).stem] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return photos


def coco_people(annotations: str | Path) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, photo, mask) of every annotated person of at least ``MIN_PERSON_AREA`` pixels."""
    from pycocotools import mask as coco_mask

    annotations = Path(annotations)
    data = json.loads(annotations.read_text())
    images = {image["id"]: image for image in data["images"]}
    photos: dict[int, np.ndarray] = {}
    for ann in sorted(data["annotations"], key=lambda a: a["id"]):
        if ann.get("iscrowd") or ann["area"] < MIN_PERSON_AREA:
            continue
        image = images[ann["image_id"]]
        if ann["image_id"] not in photos:
            bgr = cv2.imread(str(annotations.parent / image["file_name"]), cv2.IMREAD_COLOR)
            if bgr is None:
                raise FileNotFoundError(f"cannot read {annotations.parent / image['file_name']}")
            photos[ann["image_id"]] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = image["height"], image["width"]
        segmentation = ann["segmentation"]
        rle = coco_mask.merge(coco_mask.frPyObjects(segmentation, h, w)) if isinstance(segmentation, list) else segmentation
        yield f"{image['file_name']}#{ann['id']}", photos[ann["image_id"]], coco_mask.decode(rle).astype(bool)


def paste(photo: np.ndarray, mask: np.ndarray, background: np.ndarray, rng: np.random.Generator, name: str,
          loose: int = PASTE_GROWTH) -> Case:
    """One case: the person of ``photo[mask]`` scaled and pasted at a random place of ``background``,
    with the pixels ``loose`` pixels around the mask; scored in the mask grown one pixel more."""
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    x0, y0, x1, y1 = xs[0], ys[0], xs[-1] + 1, ys[-1] + 1
    pad = loose + 1
    x0, y0, x1, y1 = max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, mask.shape[1]), min(y1 + pad, mask.shape[0])
    bh, bw = background.shape[:2]
    scale = min(rng.uniform(*SIZE_RANGE) * bh / (y1 - y0), 0.9 * bw / (x1 - x0))
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    rgb = cv2.resize(photo[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    small = cv2.resize(mask[y0:y1, x0:x1].astype(np.float32), size, interpolation=cv2.INTER_LINEAR) > 0.5
    px, py = int(rng.integers(0, bw - size[0] + 1)), int(rng.integers(0, bh - size[1] + 1))
    given = np.zeros((bh, bw), dtype=bool)
    given[py : py + size[1], px : px + size[0]] = small
    layer = np.zeros_like(background)
    layer[py : py + size[1], px : px + size[0]] = rgb
    pasted = background.copy()
    region = _grow(given, loose) & (layer.any(axis=2) | given)
    pasted[region] = layer[region]
    hole = _grow(given, loose + 1)
    ys, xs = np.flatnonzero(hole.any(axis=1)), np.flatnonzero(hole.any(axis=0))
    return Case(pasted, given, background, hole, (int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1), name)


def removal_cases(annotations: str | Path, seed: int = 0, limit: int | None = None,
                  loose: int = PASTE_GROWTH) -> list[Case]:
    """Every annotated person pasted onto every background (``limit`` cases at most), ``loose`` as
    for :func:`paste`."""
    rng = np.random.default_rng(seed)
    backgrounds = background_photos()
    cases = []
    for name, photo, mask in coco_people(annotations):
        for bg_name, background in backgrounds.items():
            cases.append(paste(photo, mask, background, rng, f"{name} on {bg_name}", loose))
            if limit is not None and len(cases) >= limit:
                return cases
    return cases


class _Nobody:
    """A pose stage that places no one: the engine then only removes the replaced person."""

    def __call__(self, source, keypoints, size):
        h, w = size
        return np.zeros((h, w, 3), dtype=np.uint8), np.zeros((h, w), dtype=bool)


_STAND_IN_KEYPOINTS = np.array([[10.0, 5.0], [10.0, 10.0], [6.0, 10.0], [6.0, 15.0], [6.0, 20.0], [14.0, 10.0],
                                [14.0, 15.0], [14.0, 20.0], [8.0, 20.0], [8.0, 28.0], [8.0, 36.0], [12.0, 20.0],
                                [12.0, 28.0], [12.0, 36.0], [9.0, 4.0], [11.0, 4.0], [8.0, 5.0], [12.0, 5.0]],
                               dtype=np.float32)


def _engine_remover(**engine_options) -> Callable[[Case], np.ndarray]:
    """Removal by the Engine (its default ORNet order) with a pose stage that places nobody."""
    from interorder_rt.engine import Engine

    engine = Engine(pose=_Nobody(), **engine_options)
    stand_in = np.zeros((40, 20, 3), dtype=np.uint8)
    engine.set_source(stand_in, np.ones((40, 20), dtype=bool), _STAND_IN_KEYPOINTS)

    def remove(case: Case) -> np.ndarray:
        return engine.run(image=case.pasted, masks=case.mask[None], target=0, keypoints=_STAND_IN_KEYPOINTS).image

    return remove


def _inpaint_remover(method: int, margin: float) -> Callable[[Case], np.ndarray]:
    from interorder_rt.compose import grow_targets

    def remove(case: Case) -> np.ndarray:
        region = grow_targets(case.mask[None], [0], [0], margin, image=case.pasted)[0]
        return cv2.inpaint(case.pasted, region.astype(np.uint8), 3, method)

    return remove


def removers(device: str = "cpu") -> dict[str, Callable[[Case], np.ndarray]]:
    """The rows of the table (module docstring), by name."""
    from interorder_rt.completion import ContentCompletion
    from interorder_rt.engine import Engine

    margin = Engine.__init__.__kwdefaults__["removal_margin"]
    previous = ContentCompletion(device=device)  # MNet for both jobs, as shipped before
    return {
        "telea": _inpaint_remover(cv2.INPAINT_TELEA, margin),
        "navier-stokes": _inpaint_remover(cv2.INPAINT_NS, margin),
        "previous default": _engine_remover(completion=previous, removal_margin=0.0, device=device),
        "previous + margin": _engine_remover(completion=previous, device=device),
        "no outline snap": _engine_remover(removal_snap=False, device=device),
        "new default": _engine_remover(device=device),
    }


def evaluate_removal(cases: list[Case], methods: dict[str, Callable[[Case], np.ndarray]], *, progress: bool = True,
                     keep: int = 0) -> tuple[dict[str, RemovalScore], list[dict[str, np.ndarray]]]:
    """Scores per method, and the outputs of the first ``keep`` cases (for the contact sheet)."""
    from tqdm import tqdm

    scores = {name: RemovalScore() for name in methods}
    kept = []
    for k, case in enumerate(tqdm(cases, desc="eval removal", disable=not progress)):
        outputs = {name: remove(case) for name, remove in methods.items()}
        for name, output in outputs.items():
            scores[name].add(output, case)
        if k < keep:
            kept.append(outputs)
    return scores, kept


def contact_sheet(cases: list[Case], outputs: list[dict[str, np.ndarray]], height: int = 200) -> np.ndarray:
    """One row per case: pasted | each method's removal | truth, cropped around the person."""
    from interorder_rt.compose.overlay import side_by_side

    rows = []
    for case, out in zip(cases, outputs):
        x0, y0, x1, y1 = case.box
        pad = (y1 - y0) // 6
        h, w = case.truth.shape[:2]
        x0, y0, x1, y1 = max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, w), min(y1 + pad, h)
        panels = [case.pasted, *out.values(), case.truth]
        scale = height / (y1 - y0)
        size = (max(1, round((x1 - x0) * scale)), height)
        crops = [cv2.resize(p[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA) for p in panels]
        rows.append(side_by_side(crops, ["pasted", *out.keys(), "truth"]))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows]
    return np.concatenate(rows, axis=0)


def format_removal_table(scores: dict[str, RemovalScore]) -> str:
    lines = [f"{'method':<18}{'cases':>6}{'PSNR dB':>9}{'SSIM':>8}{'texture':>9}"]
    for name, score in scores.items():
        s = score.summary()
        lines.append(f"{name:<18}{s['cases']:>6}{s['psnr']:>9.2f}{s['ssim']:>8.4f}{s['texture_ratio']:>9.2f}")
    return "\n".join(lines)


def register_cli(eval_subparsers) -> None:
    """Add ``interorder eval removal``."""
    parser = eval_subparsers.add_parser(
        "removal", help="person removal on real photos pasted onto real backgrounds (PSNR, SSIM, texture)",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument("--coco", required=True, metavar="JSON",
                        help="COCO person annotations with the images beside them, e.g. ../shared/real/coco/test_coco.json")
    parser.add_argument("--seed", type=int, default=0, help="seed of the placements (default 0)")
    parser.add_argument("--cases", type=int, default=None, help="evaluate the first N cases only")
    parser.add_argument("--loose", type=int, default=PASTE_GROWTH,
                        help=f"pixels of the pasted person beyond the mask the remover gets (default {PASTE_GROWTH})")
    parser.add_argument("--sheet", metavar="PNG", help="write a contact sheet of the first --sheet-rows cases")
    parser.add_argument("--sheet-rows", type=int, default=8, help="cases on the contact sheet (default 8)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    from interorder_rt.io.atomic import atomic_imwrite, atomic_open

    if args.cases is not None and args.cases < 1:
        raise ValueError(f"--cases must be positive, got {args.cases}")
    if args.loose < 0:
        raise ValueError(f"--loose must be 0 or more pixels, got {args.loose}")
    cases = removal_cases(args.coco, args.seed, args.cases, args.loose)
    if not cases:
        raise ValueError(f"{args.coco} holds no person of at least {MIN_PERSON_AREA} pixels")
    keep = args.sheet_rows if args.sheet else 0
    scores, kept = evaluate_removal(cases, removers(args.device), progress=not args.no_progress, keep=keep)
    print(f"removal of {len(cases)} real people pasted onto real photos, {args.loose} px beyond their masks "
          f"(seed {args.seed})")
    print(format_removal_table(scores))
    if args.sheet:
        atomic_imwrite(args.sheet, contact_sheet(cases[:keep], kept))
    if args.json:
        with atomic_open(args.json, "w") as f:
            json.dump({"coco": str(args.coco), "seed": args.seed, "loose": args.loose,
                       "methods": {n: s.summary() for n, s in scores.items()}},
                      f, indent=2)
            f.write("\n")
    return 0
