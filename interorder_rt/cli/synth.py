"""``interorder synth``: look at synthetic scenes (image, masks with hidden parts, order graph)."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser("synth", help="render a preview grid of synthetic scenes",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--show", required=True, metavar="OUT.png", help="where to write the preview grid")
    parser.add_argument("--count", type=int, default=8, help="number of scenes (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first scene; scene k uses seed + k")
    parser.add_argument("--size", type=int, nargs=2, default=(256, 256), metavar=("H", "W"),
                        help="scene height and width (default 256 256)")
    parser.add_argument("--columns", type=int, default=2, help="scenes per grid row (default 2)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from interorder_rt.io.atomic import atomic_imwrite
    from interorder_rt.synth import generate_scene
    from interorder_rt.synth.preview import preview_grid

    if args.count < 1:
        raise ValueError(f"--count must be at least 1, got {args.count}")
    if args.columns < 1:
        raise ValueError(f"--columns must be at least 1, got {args.columns}")
    height, width = args.size
    seeds = [args.seed + k for k in range(args.count)]
    scenes = [generate_scene(seed, height=height, width=width) for seed in seeds]
    atomic_imwrite(args.show, preview_grid(scenes, [f"seed {seed}" for seed in seeds], args.columns))
    print(f"wrote {args.count} scenes to {args.show}")
    return 0
