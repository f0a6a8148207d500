"""``interorder transfer``: move the person of a source image into a reference image.

Both images come with a per-image annotation JSON (docs/annotations.md): instance masks, the
person's keypoints, and which instance is the person (source) or the person to replace (reference).
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "transfer",
        help="occlusion-aware transfer of a source person into a reference image",
        description=__doc__.splitlines()[0],
    )
    add_source_arguments(parser)
    parser.add_argument("--reference", required=True, metavar="IMG", help="reference image")
    parser.add_argument("--reference-ann", required=True, metavar="JSON", help="its annotation JSON")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output image (PNG or JPEG)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.set_defaults(run=run)


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """``--source IMG --source-ann JSON``, shared with ``interorder video``."""
    parser.add_argument("--source", required=True, metavar="IMG", help="image of the person to transfer")
    parser.add_argument("--source-ann", required=True, metavar="JSON", help="its annotation JSON (docs/annotations.md)")


def load_source(engine, image_path: str, annotation_path: str) -> None:
    """Read the source image and annotation and hand the person to ``engine.set_source``."""
    from interorder_rt.io.annotations import load_annotation
    from interorder_rt.io.image import read_rgb

    image = read_rgb(image_path)
    ann = load_annotation(annotation_path, size=image.shape[:2])
    if len(ann.person) != 1:
        raise ValueError(f"{annotation_path}: the source must name exactly one person, got {list(ann.person)}")
    person = ann.person[0]
    engine.set_source(image, keypoints=ann.keypoints[person], masks=ann.masks, index=person)


def run(args: argparse.Namespace) -> int:
    from interorder_rt.engine import Engine
    from interorder_rt.io.annotations import load_annotation
    from interorder_rt.io.atomic import atomic_imwrite
    from interorder_rt.io.image import read_rgb

    reference = read_rgb(args.reference)
    ann = load_annotation(args.reference_ann, size=reference.shape[:2])
    engine = Engine(device=args.device)
    load_source(engine, args.source, args.source_ann)
    result = engine.run(ann.frame(reference))
    atomic_imwrite(args.output, result.image)
    timings = ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in result.timings.as_dict().items())
    print(f"wrote {args.output} ({timings})")
    return 0
