"""``interorder eval completion``: MNet against OpenCV inpainting on held-out synthetic scenes."""

from __future__ import annotations

import argparse
import json


def register_cli(eval_subparsers) -> None:
    """Add ``interorder eval completion`` to the ``eval`` command's sub-parsers."""
    parser = eval_subparsers.add_parser(
        "completion", help="content completion (MNet vs OpenCV inpainting) on held-out synthetic scenes",
        description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("--synthetic", type=int, default=50, metavar="N", help="number of synthetic scenes (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="first scene seed (default 0)")
    parser.add_argument("--weights", default=None, help="MNet weights (default: the shipped ones)")
    parser.add_argument("--device", default="cpu", help="torch device for MNet (default cpu)")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the scores as JSON")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from interorder_rt.completion import ContentCompletion
    from interorder_rt.eval.completion import evaluate_completion, format_table
    from interorder_rt.io.atomic import atomic_write_bytes

    scores = evaluate_completion(args.synthetic, args.seed, completer=ContentCompletion(args.weights, args.device))
    print(format_table(scores))
    if args.json:
        blob = {task: {m: s.summary() for m, s in methods.items()} for task, methods in scores.items()}
        blob["settings"] = {"synthetic": args.synthetic, "seed": args.seed, "weights": args.weights or "shipped"}
        atomic_write_bytes(args.json, (json.dumps(blob, indent=2) + "\n").encode())
    return 0
