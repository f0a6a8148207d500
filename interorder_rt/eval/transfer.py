"""Transfer quality on synthetic pairs with ground truth: image metrics and the order the output shows.

Four ways to put source person X into reference person Y's pose and place are compared against
the ground-truth frame (X rendered in Y's pose and depth slot):

- **naive paste**: the pose stage's X pasted over the reference, ignoring order (Y stays visible
  wherever X does not cover it);
- **no completion**: ORNet's order and layering, but no MNet: nothing hidden is completed and the
  whole freed region (Y's pixels that X does not cover) is filled by OpenCV Telea inpainting;
- **full pipeline**: ORNet + pose stage + MNet (``Engine.run``);
- **ground-truth order**: the full pipeline given the ground-truth layering and amodal masks
  (an upper bound for the order and mask stages).

Metrics, each averaged over pairs (images in [0, 255]):

- **SSIM**: structural similarity with an 11 x 11 Gaussian window, sigma 1.5 (Wang et al. 2004),
  C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, mean over pixels and RGB channels;
- **mask-SSIM**: both images set to 0 outside the ground-truth person mask (X's complete
  silhouette in the target frame, so the instances that should hide parts of X are judged too),
  then the SSIM map averaged over that mask's pixels only;
- **PSNR** (dB) and **L1** (mean absolute error) over the whole image;
- **output order**, what the output shows where the new person meets the other instances. For an
  instance k bordering Y in the reference (ground truth), the conflict pixels are k's visible
  pixels that lie both in X's ground-truth silhouette and in the transferred X's mask. An output
  pixel shows k when it is closer (L1 over RGB) to the reference (k's colour there) than to the
  transferred person's colour; pixels where those two colours nearly agree (L1 < 30) are left out
  as undecidable, and pairs without decidable conflict pixels are not counted.
  *Occluders in front*: over the instances k that occlude Y, the share whose conflict pixels
  mostly show k (k still hides the new person). *Occluded behind*: over the instances Y occludes,
  the share whose conflict pixels mostly show the person (the new person still covers k).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field, replace
from typing import Iterable

import cv2
import numpy as np

from interorder_rt.eval.image_metrics import l1, mask_ssim, psnr, ssim

VARIANTS = ("naive paste", "no completion", "full pipeline", "ground-truth order")
SETTINGS = ("objects", "persons")
UNDECIDABLE_L1 = 30  # summed |RGB| difference below which k's and the person's colours count as equal
INPAINT_RADIUS = 5
INSTANCE_FILLERS = ("mnet", "telea", "exemplar")  # completion.FILLERS, without importing torch for the CLI


class TeleaInpaint:
    """The trivial filler of the "no completion" variant: OpenCV's Telea inpainting."""

    def fill_background(self, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return cv2.inpaint(image, hole.astype(np.uint8), INPAINT_RADIUS, cv2.INPAINT_TELEA)

    def complete(self, image: np.ndarray, visible: np.ndarray, amodal: np.ndarray) -> np.ndarray:
        return self.fill_background(image, amodal & ~visible)


def relation_pairs(
    output: np.ndarray, reference, target, index: int, person_rgb: np.ndarray, person_mask: np.ndarray,
    *, in_front: bool,
) -> tuple[int, int]:
    """(correct, counted) pairs of the output order metrics (module docstring).

    ``in_front``: the instances that occlude the replaced person in the reference, which must
    show over the new person; otherwise the instances it occludes, which the new person must cover.
    """
    silhouette = target.instances[index].amodal & person_mask
    related = reference.order[:, index] == 1 if in_front else reference.order[index] == 1
    correct = counted = 0
    for k in np.flatnonzero(related):
        conflict = reference.instances[k].modal & silhouette
        ref_px = reference.image[conflict].astype(np.int32)
        person_px = person_rgb[conflict].astype(np.int32)
        decidable = np.abs(ref_px - person_px).sum(axis=1) >= UNDECIDABLE_L1
        if not decidable.any():
            continue
        out_px = output[conflict][decidable].astype(np.int32)
        to_ref = np.abs(out_px - ref_px[decidable]).sum(axis=1)
        to_person = np.abs(out_px - person_px[decidable]).sum(axis=1)
        counted += 1
        shows_instance = np.mean(to_ref < to_person) > 0.5
        correct += int(shows_instance == in_front)
    return correct, counted


@dataclass
class VariantScore:
    """Running sums of one variant's metrics."""

    name: str
    ssim: list[float] = field(default_factory=list)
    mask_ssim: list[float] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)
    l1: list[float] = field(default_factory=list)
    front_correct: int = 0
    front_pairs: int = 0
    behind_correct: int = 0
    behind_pairs: int = 0

    def add(self, output: np.ndarray, pair, person_rgb: np.ndarray, person_mask: np.ndarray) -> None:
        truth, index = pair.target.image, pair.reference_index
        self.ssim.append(ssim(output, truth))
        self.mask_ssim.append(mask_ssim(output, truth, pair.target.instances[index].amodal))
        self.psnr.append(psnr(output, truth))
        self.l1.append(l1(output, truth))
        args = (output, pair.reference, pair.target, index, person_rgb, person_mask)
        correct, counted = relation_pairs(*args, in_front=True)
        self.front_correct, self.front_pairs = self.front_correct + correct, self.front_pairs + counted
        correct, counted = relation_pairs(*args, in_front=False)
        self.behind_correct, self.behind_pairs = self.behind_correct + correct, self.behind_pairs + counted

    def summary(self) -> dict[str, float]:
        finite_psnr = [p for p in self.psnr if np.isfinite(p)]
        return {
            "ssim": float(np.mean(self.ssim)),
            "mask_ssim": float(np.mean(self.mask_ssim)),
            "psnr": float(np.mean(finite_psnr)) if finite_psnr else float("inf"),
            "l1": float(np.mean(self.l1)),
            "front_correct": self.front_correct,
            "front_pairs": self.front_pairs,
            "front_accuracy": self.front_correct / self.front_pairs if self.front_pairs else float("nan"),
            "behind_correct": self.behind_correct,
            "behind_pairs": self.behind_pairs,
            "behind_accuracy": self.behind_correct / self.behind_pairs if self.behind_pairs else float("nan"),
        }


def ground_truth_order(scene):
    """The scene's exact order, layering and amodal masks as an ``OrderResult``; the evidence is
    ``growth[i, j] = |amodal_i & ~modal_i & modal_j|``, the hidden part of i that j covers."""
    from interorder_rt.ops.order import OrderResult

    n = scene.n
    hidden = (scene.amodal & ~scene.modal).reshape(n, -1).astype(np.float32)
    growth = np.rint(hidden @ scene.modal.reshape(n, -1).astype(np.float32).T)
    return OrderResult(order=scene.order, growth=growth, layering=scene.layering, amodal=scene.amodal)


def transfer_pairs(count: int, seed: int, size: int) -> Iterable:
    """``count`` synthetic pairs, settings alternating objects / persons (half each), seeds from ``seed``."""
    from interorder_rt.synth import make_transfer_pair

    for k in range(count):
        yield make_transfer_pair(seed + k, setting=SETTINGS[k % 2], height=size, width=size)


POSE_STAGES = ("mesh", "part")


def pose_stage(name: str):
    """The pose stage called ``name``: ``"mesh"`` (``MeshWarp``, the default) or ``"part"`` (``PartWarp``)."""
    from interorder_rt.pose import PartWarp
    from interorder_rt.pose.mesh_warp import MeshWarp

    if name not in POSE_STAGES:
        raise ValueError(f"pose stage must be one of {POSE_STAGES}, got {name!r}")
    return MeshWarp() if name == "mesh" else PartWarp()


def evaluate_transfer(
    pairs: int = 200, seed: int = 0, *, size: int = 256, device: str = "cpu", progress: bool = True,
    pose: str = "mesh", removal_margin: float | None = None, instance_filler: str | None = None,
) -> dict[str, VariantScore]:
    """Score the four variants (``VARIANTS``) on ``pairs`` synthetic transfer pairs, with the
    pose stage ``pose`` (``pose_stage``), the Engine's ``removal_margin`` and the completion's
    ``instance_filler`` (``completion.FILLERS``; None: the Engine's defaults)."""
    from tqdm import tqdm

    from interorder_rt.completion import ENGINE_FILLERS, ContentCompletion
    from interorder_rt.compose import paste_on_top
    from interorder_rt.engine import Engine
    from interorder_rt.frame import Frame

    if pairs < 1:
        raise ValueError(f"pairs must be positive, got {pairs}")
    margin = {} if removal_margin is None else {"removal_margin": removal_margin}
    fillers = {**ENGINE_FILLERS, **({} if instance_filler is None else {"instance": instance_filler})}
    completion = ContentCompletion(device=device, **fillers)
    full = Engine(device=device, pose=pose_stage(pose), completion=completion, **margin)
    plain = Engine(order=full.order, pose=full.pose, completion=TeleaInpaint(), **margin)
    scores = {name: VariantScore(name) for name in VARIANTS}
    bar = dict(total=pairs, desc="eval transfer", unit="pair", disable=not progress)
    for pair in tqdm(transfer_pairs(pairs, seed, size), **bar):
        src, ref, y = pair.source, pair.reference, pair.reference_index
        source = full.set_source(src.image, keypoints=src.instances[pair.source_index].keypoints,
                                 masks=src.modal, index=pair.source_index)
        plain.source = source
        frame = Frame(image=ref.image, masks=ref.modal, target=y, keypoints=ref.instances[y].keypoints)
        ours = full.run(frame)
        person_rgb, person_mask = ours.person_rgb[0], ours.person_masks[0]
        truth_order = ground_truth_order(ref)
        outputs = {
            "naive paste": paste_on_top(ref.image, person_rgb, person_mask),
            "no completion": plain.run(frame, order=replace(ours.order, amodal=ref.modal)).image,
            "full pipeline": ours.image,
            "ground-truth order": full.run(frame, order=truth_order).image,
        }
        for name, output in outputs.items():
            scores[name].add(output, pair, person_rgb, person_mask)
    return scores


def format_transfer_table(scores: dict[str, VariantScore]) -> str:
    """The results as an aligned text table."""
    header = (f"{'method':<20}{'SSIM':>8}{'mask-SSIM':>11}{'PSNR dB':>9}{'L1':>7}"
              f"   {'occluders in front':<20}   {'occluded behind':<20}")
    lines = [header, "-" * len(header)]
    for name, score in scores.items():
        s = score.summary()
        front = f"{100 * s['front_accuracy']:5.1f}% ({s['front_correct']}/{s['front_pairs']})"
        behind = f"{100 * s['behind_accuracy']:5.1f}% ({s['behind_correct']}/{s['behind_pairs']})"
        lines.append(f"{name:<20}{s['ssim']:8.4f}{s['mask_ssim']:11.4f}{s['psnr']:9.2f}{s['l1']:7.2f}"
                     f"   {front:<20}   {behind:<20}")
    return "\n".join(lines)


def register_cli(eval_subparsers) -> None:
    """Add ``interorder eval transfer``."""
    parser = eval_subparsers.add_parser(
        "transfer",
        help="transfer quality (SSIM, mask-SSIM, PSNR, L1, output order) on synthetic pairs",
        description="Compare naive paste, no completion, the full pipeline and ground-truth order on "
        "synthetic transfer pairs (half with objects, half with another person).",
    )
    parser.add_argument("--pairs", type=int, default=200, help="number of pairs (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first pair (default 0)")
    parser.add_argument("--size", type=int, default=256, help="frame height and width (default 256)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--pose", choices=POSE_STAGES, default="mesh",
                        help="pose stage: mesh (MeshWarp, the default) or part (PartWarp, the previous default)")
    parser.add_argument("--removal-margin", type=float, metavar="SHARE",
                        help="the Engine's removal_margin (default: the Engine's own, 0.01)")
    parser.add_argument("--instance-filler", choices=INSTANCE_FILLERS,
                        help="what completes revealed instances (default: the Engine's, mnet)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    from interorder_rt.io.atomic import atomic_open

    scores = evaluate_transfer(args.pairs, args.seed, size=args.size, device=args.device,
                               progress=not args.no_progress, pose=args.pose, removal_margin=args.removal_margin,
                               instance_filler=args.instance_filler)
    half = args.pairs // 2
    print(f"transfer on {args.pairs} synthetic pairs ({args.pairs - half} objects, {half} persons; "
          f"seeds {args.seed}..{args.seed + args.pairs - 1}), {args.size}x{args.size}, pose stage {args.pose}"
          + (f", removal margin {args.removal_margin}" if args.removal_margin is not None else "")
          + (f", instance filler {args.instance_filler}" if args.instance_filler is not None else ""))
    print(format_transfer_table(scores))
    if args.json:
        source = {"pairs": args.pairs, "seed": args.seed, "size": args.size, "pose": args.pose,
                  "removal_margin": args.removal_margin, "instance_filler": args.instance_filler}
        with atomic_open(args.json, "w") as f:
            json.dump({"source": source, "variants": {n: s.summary() for n, s in scores.items()}}, f, indent=2)
            f.write("\n")
    return 0
