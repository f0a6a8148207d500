"""``interorder eval pose``: every usable real person moved into every other one's pose and frame.

Per transfer and method: the significant pieces of the moved mask (8-connected parts of at least
``PIECE_SHARE`` of it), the torn share (mask pixels outside its largest piece plus the holes it
encloses, over its area) and the round trip (A into B's pose, the result back into A's own pose,
mask-SSIM against the photo of A inside A's mask). For the mesh warp also the head's pieces (its
layer rasterized alone, so an arm in front of the face does not count), the face on the head
(share of the target's face keypoints that the moved head covers: ``face_on_head``) and the source jumps
(share of moved pixels whose source position differs from a right or lower neighbour's in the
same layer by more than ``JUMP`` pixels times the source-to-target scale ratio). A person whose
own mask is in several significant pieces (cut by an occluder) is used as a target only: the
pose stage cannot join what it is handed in pieces (the engine completes such a source first).
Contact sheets:
one PNG per source person, a row per target: target photo | old | new, on grey.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from interorder_rt.eval.image_metrics import mask_ssim
from interorder_rt.eval.pose_people import RealPerson, load_people
from interorder_rt.pose.mesh_warp import MeshWarp, moved_copies
from interorder_rt.pose.output import alpha_of
from interorder_rt.pose.parts import HEAD
from interorder_rt.pose.protocol import SourcePerson
from interorder_rt.pose.raster import rasterize
from interorder_rt.pose.regions import FACE
from interorder_rt.pose.skeleton import body_scale
from interorder_rt.pose.warp import PartWarp

PIECE_SHARE = 0.005
JUMP = 2.0
FACE_TOLERANCE = 0.05  # of the target's body scale: how far off the head a face keypoint may lie
METHODS = {"old (PartWarp)": PartWarp, "new (MeshWarp)": MeshWarp}
_TILE = 200  # contact sheet tile height, pixels
_GREY = 128


@dataclass
class TransferScore:
    source: str
    target: str
    method: str
    pieces: int
    torn: float
    round_trip_ssim: float | None
    head_pieces: int | None = None
    face_on_head: float | None = None
    jumps: float | None = None
    views: str = ""


def significant_pieces(mask: np.ndarray, share: float = PIECE_SHARE) -> int:
    """8-connected parts of ``mask`` holding at least ``share`` of its pixels."""
    total = int(mask.sum())
    if total == 0:
        return 0
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    return int((stats[1:, cv2.CC_STAT_AREA] >= share * total).sum())


def torn_share(mask: np.ndarray) -> float:
    """(pixels outside the largest piece + enclosed holes) / mask pixels; 0 for an empty mask."""
    total = int(mask.sum())
    if total == 0:
        return 0.0
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    outside = total - int(stats[1:, cv2.CC_STAT_AREA].max())
    background = (~mask).view(np.uint8)
    _, bg_labels, _, _ = cv2.connectedComponentsWithStats(np.pad(background, 1, constant_values=1), connectivity=4)
    holes = int((bg_labels[1:-1, 1:-1] != bg_labels[0, 0])[~mask].sum())
    return (outside + holes) / total


def source_jumps(warp: MeshWarp, ratio: float) -> float:
    """Share of the last call's moved pixels with a source jump to a same-layer neighbour (module doc)."""
    raster, _, _, triangle_part = warp.last_raster
    inside = raster.alpha > 0
    if not inside.any():
        return 0.0
    layer = np.where(raster.owner >= 0, triangle_part[np.maximum(raster.owner, 0)], -1)
    limit = JUMP * max(ratio, 1.0)
    jumped = np.zeros(inside.shape, bool)
    for dy, dx in ((0, 1), (1, 0)):
        a, b = (slice(0, -dy or None), slice(0, -dx or None)), (slice(dy, None), slice(dx, None))
        same = inside[a] & inside[b] & (layer[a] == layer[b]) & (layer[a] >= 0)
        step = np.linalg.norm(raster.source_xy[a] - raster.source_xy[b], axis=-1)
        jumped[a] |= same & (step > limit)
    return float(jumped[inside].mean())


def moved_head(warp: MeshWarp, source: SourcePerson, target: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The head layer rasterized alone in the target pose: (its mask on a canvas around it, the
    canvas's corner (x, y) in the target frame); None without a head."""
    rig = warp.rig(source)
    head = rig.mesh.triangle_part == HEAD
    if not head.any():
        return None
    moved = moved_copies(rig, source.keypoints, target)
    tris = rig.mesh.triangles[head]
    corner = np.floor(moved[np.unique(tris)].min(axis=0)) - 1
    size = np.ceil(moved[np.unique(tris)].max(axis=0) - corner).astype(int) + 2
    alone = rasterize(rig.textures, moved - corner, rig.mesh.vertices[rig.mesh.copy_vertex], tris,
                      np.full(len(tris), HEAD, np.int32), np.zeros(len(tris), np.float32), size[1], size[0],
                      rig.mesh.internal[head])
    return alone.alpha > 0, corner


def head_pieces(head: tuple[np.ndarray, np.ndarray] | None) -> int | None:
    """Significant pieces of the moved ``head`` (as :func:`moved_head` gives it); None without a head."""
    return None if head is None else significant_pieces(head[0])


def face_on_head(head: tuple[np.ndarray, np.ndarray] | None, target: np.ndarray) -> float | None:
    """Share of the target's face keypoints (nose, eyes, ears) that the moved ``head`` (as
    :func:`moved_head` gives it) covers, its layer grown by ``FACE_TOLERANCE`` of the target's body
    scale: where the reference's face is, the new head should be. None without a head or without
    face keypoints in the target."""
    face = target[list(FACE)]
    face = face[~np.isnan(face).any(axis=1)]
    if head is None or len(face) == 0:
        return None
    mask, corner = head
    radius = max(int(round(FACE_TOLERANCE * body_scale(target))), 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    grown = cv2.dilate(np.pad(mask, radius).view(np.uint8), disc).astype(bool)
    at = np.round(face - corner).astype(int) + radius
    inside = (at >= 0).all(axis=1) & (at[:, 0] < grown.shape[1]) & (at[:, 1] < grown.shape[0])
    covered = np.zeros(len(face), bool)
    covered[inside] = grown[at[inside, 1], at[inside, 0]]
    return float(covered.mean())


def _crop_box(keypoints: np.ndarray, mask: np.ndarray) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 around a person (its mask and keypoints), with a margin."""
    ys, xs = np.nonzero(mask)
    points = keypoints[~np.isnan(keypoints).any(axis=1)]
    x0, y0 = min(xs.min(), points[:, 0].min()), min(ys.min(), points[:, 1].min())
    x1, y1 = max(xs.max(), points[:, 0].max()), max(ys.max(), points[:, 1].max())
    pad = 0.15 * max(x1 - x0, y1 - y0)
    h, w = mask.shape
    return int(max(x0 - pad, 0)), int(max(y0 - pad, 0)), int(min(x1 + pad, w)), int(min(y1 + pad, h))


def _on_grey(rgb: np.ndarray, mask: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    a = (alpha.astype(np.float32) / 255 if alpha is not None else mask.astype(np.float32))[..., None]
    return (rgb * a + _GREY * (1 - a)).round().astype(np.uint8)


def _tile(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    crop = image[y0:y1, x0:x1]
    width = max(int(round(crop.shape[1] * _TILE / max(crop.shape[0], 1))), 1)
    return cv2.resize(crop, (width, _TILE), interpolation=cv2.INTER_AREA)


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.putText(out, text, (3, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1, cv2.LINE_AA)
    return out


def _sheet(rows: list[list[np.ndarray]]) -> np.ndarray:
    widths = [sum(t.shape[1] for t in row) + 4 * (len(row) - 1) for row in rows]
    sheet = np.full((len(rows) * (_TILE + 4), max(widths), 3), 255, np.uint8)
    for r, row in enumerate(rows):
        x = 0
        for tile in row:
            sheet[r * (_TILE + 4) : r * (_TILE + 4) + _TILE, x : x + tile.shape[1]] = tile
            x += tile.shape[1] + 4
    return sheet


def _round_trip(method, a: RealPerson, moved_rgb: np.ndarray, moved_mask: np.ndarray, b: RealPerson) -> float | None:
    if not moved_mask.any():
        return None
    back = method(SourcePerson(moved_rgb, moved_mask, b.keypoints), a.keypoints, a.mask.shape)
    return mask_ssim(back[0], a.image, a.mask)


def evaluate_pose(people: list[RealPerson], sheets: Path | None = None) -> list[TransferScore]:
    """Scores of every ordered pair of ``people`` for both methods; contact sheets into ``sheets``."""
    from interorder_rt.io.atomic import atomic_imwrite

    scores = []
    for a in people:
        if significant_pieces(a.mask) > 1:  # torn already (an occluder cuts it): a target only
            continue
        source = a.source()
        warps = {name: factory() for name, factory in METHODS.items()}
        rows = []
        for b in people:
            if b is a:
                continue
            box = _crop_box(b.keypoints, b.mask)
            row = [_label(_tile(b.image, box), f"{a.name} -> {b.name}")]
            for name, warp in warps.items():
                out = warp(source, b.keypoints, b.mask.shape)
                rgb, mask = out[0], out[1]
                score = TransferScore(a.name, b.name, name, significant_pieces(mask), torn_share(mask),
                                      None)
                if isinstance(warp, MeshWarp):
                    score.jumps = source_jumps(warp, body_scale(a.keypoints) / body_scale(b.keypoints))
                    note = f" ({out.views.note})" if out.views.note else ""
                    score.views = f"{out.views.source}->{out.views.target}{note}"
                    head = moved_head(warp, source, b.keypoints)
                    score.head_pieces = head_pieces(head)
                    score.face_on_head = face_on_head(head, b.keypoints)
                score.round_trip_ssim = _round_trip(type(warp)(), a, rgb, mask, b)
                scores.append(score)
                row.append(_label(_tile(_on_grey(rgb, mask, alpha_of(out)), box), f"{name.split()[0]} {score.pieces}p"))
            rows.append(row)
        if sheets is not None and rows:
            sheets.mkdir(parents=True, exist_ok=True)
            atomic_imwrite(sheets / f"pose_{a.name.replace('#', '_')}.png", _sheet(rows))
    return scores


def format_pose_table(scores: list[TransferScore]) -> str:
    """One row per method: transfers, share in > 1 piece, mean torn share, heads whole, face on
    head, source jumps, round trip."""
    lines = [f"{'method':16s} {'transfers':>9s} {'>1 piece':>9s} {'torn':>7s} {'heads whole':>12s} "
             f"{'face on head':>13s} {'src jumps':>10s} {'round-trip mSSIM':>17s}"]
    for name in METHODS:
        rows = [s for s in scores if s.method == name]
        if not rows:
            continue
        split = np.mean([s.pieces > 1 for s in rows])
        heads = [s.head_pieces for s in rows if s.head_pieces is not None]
        faces = [s.face_on_head for s in rows if s.face_on_head is not None]
        jumps = [s.jumps for s in rows if s.jumps is not None]
        trips = [s.round_trip_ssim for s in rows if s.round_trip_ssim is not None]
        lines.append(
            f"{name:16s} {len(rows):9d} {split:9.1%} {np.mean([s.torn for s in rows]):7.2%} "
            f"{(f'{sum(h == 1 for h in heads)}/{len(heads)}' if heads else 'n/a'):>12s} "
            f"{(f'{np.mean(faces):.1%}' if faces else 'n/a'):>13s} "
            f"{(f'{np.mean(jumps):.2%}' if jumps else 'n/a'):>10s} {np.mean(trips) if trips else float('nan'):17.3f}"
        )
    return "\n".join(lines)


def register_cli(eval_subparsers) -> None:
    """Add ``interorder eval pose``."""
    parser = eval_subparsers.add_parser(
        "pose",
        help="pose stage on real people: pieces, tears, heads, round trip, contact sheets (old vs new)",
        description="Move every usable person of a COCO keypoint file into every other one's pose and frame "
        "with the old (PartWarp) and the new (MeshWarp) pose stage.",
    )
    parser.add_argument("--coco", required=True, metavar="FILE", help="COCO keypoint annotations (JSON)")
    parser.add_argument("--images", metavar="DIR", help="photo folder (default: the annotation file's folder)")
    parser.add_argument("--sheets", metavar="DIR", help="write one contact sheet PNG per source person here")
    parser.add_argument("--json", metavar="OUT", help="also write every transfer's scores as JSON")
    parser.set_defaults(run=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    from interorder_rt.io.atomic import atomic_open

    people = load_people(args.coco, args.images)
    if len(people) < 2:
        raise ValueError(f"{args.coco}: {len(people)} usable person(s); the pose evaluation needs two")
    scores = evaluate_pose(people, Path(args.sheets) if args.sheets else None)
    sources = sorted({s.source for s in scores})
    print(f"pose transfer between {len(people)} real people: {len(sources)} sources (one-piece masks) "
          f"x {len(people) - 1} targets")
    print(format_pose_table(scores))
    for s in scores:
        if s.method.startswith("new") and (s.pieces > 1 or (s.head_pieces or 1) > 1):
            print(f"  new, {s.source} -> {s.target}: {s.pieces} pieces, head in {s.head_pieces}")
    if args.json:
        with atomic_open(args.json, "w") as f:
            json.dump([asdict(s) for s in scores], f, indent=1)
    return 0
