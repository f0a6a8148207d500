"""``interorder video``: move a source person into every frame of an annotated video.

The video comes with one annotation per frame (a folder of JSON files or a JSON Lines file,
docs/annotations.md); the order is kept stable over time (``Engine.stream``).
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from interorder_rt.cli.transfer import add_source_arguments

    parser = subparsers.add_parser(
        "video",
        help="occlusion-aware transfer of a source person into an annotated video",
        description=__doc__.splitlines()[0],
    )
    add_source_arguments(parser)
    parser.add_argument("--video", required=True, metavar="IN", help="reference video (any format OpenCV reads)")
    parser.add_argument("--annotations", required=True, metavar="DIR_OR_JSONL", help="per-frame annotations")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output video (.mp4 or .gif)")
    parser.add_argument("--fps", type=float, help="output frame rate (default: the input's)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run)


def annotated_frames(video_path: str, annotations):
    """Yield the engine frame of each video frame; a count mismatch raises ValueError."""
    from interorder_rt.io.video import read_video

    frames = read_video(video_path)
    count = 0
    for ann in annotations:
        image = next(frames, None)
        if image is None:
            raise ValueError(f"{video_path} has {count} frames but there are {len(annotations)} annotations")
        yield ann.frame(image)
        count += 1
    if next(frames, None) is not None:
        raise ValueError(f"{video_path} has more frames than the {len(annotations)} annotations")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from interorder_rt.cli.transfer import load_source
    from interorder_rt.engine import Engine
    from interorder_rt.io.annotations import VideoAnnotations
    from interorder_rt.io.video import VideoWriter, video_fps

    annotations = VideoAnnotations(args.annotations)
    fps = args.fps if args.fps is not None else video_fps(args.video)
    engine = Engine(device=args.device)
    load_source(engine, args.source, args.source_ann)
    results = engine.stream(annotated_frames(args.video, annotations))
    total_ms = []
    with VideoWriter(args.output, fps) as writer:
        for result in tqdm(results, total=len(annotations), desc="video", unit="frame", disable=args.no_progress):
            writer.write(result.image)
            total_ms.append(result.timings.total)
    median = sorted(total_ms)[len(total_ms) // 2]
    print(f"wrote {writer.path}: {writer.frames_written} frames, median {median:.0f} ms per frame")
    return 0
