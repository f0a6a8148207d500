"""``interorder eval``: evaluation sub-commands.

``interorder eval order`` lives here; other evaluation modules attach their own sub-commands
through ``register_cli(eval_subparsers)`` when they are installed.
"""

from __future__ import annotations

import argparse
import importlib
import json

from interorder_rt.eval.methods import METHOD_NAMES
from interorder_rt.eval.samples import GROUND_TRUTHS

EXTENSION_MODULES = ("interorder_rt.cli.eval_completion", "interorder_rt.eval.transfer", "interorder_rt.eval.pose_real",
                     "interorder_rt.eval.removal", "interorder_rt.eval.video_removal")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


class _AddMethod(argparse.Action):
    """``--method NAME``: one more row of the table."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, [*(getattr(namespace, self.dest) or []), {"name": values}])


class _MethodOption(argparse.Action):
    """``--weights`` / ``--label``: an option of the ``--method`` given just before it."""

    def __call__(self, parser, namespace, values, option_string=None):
        methods = getattr(namespace, self.dest) or []
        if not methods:
            parser.error(f"{option_string} must follow the --method it belongs to")
        key = option_string.lstrip("-")
        if key in methods[-1]:
            parser.error(f"{option_string} given twice for one --method {methods[-1]['name']}")
        methods[-1][key] = values


def _register_order(eval_subparsers) -> None:
    parser = eval_subparsers.add_parser(
        "order",
        help="order-recovery accuracy, precision/recall/F1 and amodal mIoU",
        description="Evaluate order-recovery methods on synthetic scenes or a COCOA file; one table row per method.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--synthetic", type=_positive_int, metavar="N", help="evaluate on N generated scenes")
    source.add_argument("--cocoa", metavar="FILE", help="COCOA annotation file (JSON)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first synthetic scene (default 0)")
    parser.add_argument("--images", metavar="DIR", help="COCOA image folder (pixels for methods that use them)")
    parser.add_argument(
        "--gt", choices=GROUND_TRUTHS, default="amodal",
        help="COCOA ground-truth order: from the modal/amodal masks (default, the published protocol) "
        "or from depth_constraint",
    )
    parser.add_argument("--skip-stuff", action="store_true", help="leave out COCOA stuff regions")
    parser.add_argument(
        "--method", dest="methods", action=_AddMethod, choices=METHOD_NAMES, metavar="NAME",
        help=f"method to evaluate, repeatable: {', '.join(METHOD_NAMES)}",
    )
    parser.add_argument(
        "--weights", dest="methods", action=_MethodOption, metavar="PATH",
        help="ORNet checkpoint for the preceding --method ornet (default: the shipped weights)",
    )
    parser.add_argument("--label", dest="methods", action=_MethodOption, help="table label of the preceding --method")
    parser.add_argument("--device", default="cpu", help="torch device for ornet (default cpu)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(run=run_order)


def register(subparsers) -> None:
    parser = subparsers.add_parser("eval", help="evaluate order recovery and other stages")
    eval_subparsers = parser.add_subparsers(dest="eval_command", required=True)
    _register_order(eval_subparsers)
    for module_name in EXTENSION_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register_cli(eval_subparsers)


def run_order(args: argparse.Namespace) -> int:
    from interorder_rt.eval.methods import MethodSpec
    from interorder_rt.eval.order_eval import evaluate_order
    from interorder_rt.eval.order_report import format_order_table, score_to_json
    from interorder_rt.eval.samples import cocoa_samples, synthetic_samples
    from interorder_rt.io.atomic import atomic_open
    from interorder_rt.io.cocoa import load_cocoa

    if not args.methods:
        raise ValueError(f"give at least one --method ({', '.join(METHOD_NAMES)})")
    if args.images is not None and args.cocoa is None:
        raise ValueError("--images goes with --cocoa")
    specs = [MethodSpec(**method) for method in args.methods]
    labels = [spec.display for spec in specs]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"several methods are labelled {', '.join(repeated)}: tell them apart with --label")

    if args.synthetic is not None:
        source = {"synthetic": args.synthetic, "seed": args.seed}
        last_seed = args.seed + args.synthetic - 1
        title = f"order recovery on {args.synthetic} synthetic scenes (seeds {args.seed}..{last_seed})"
        samples, total = synthetic_samples(args.synthetic, args.seed), args.synthetic
    else:
        dataset = load_cocoa(args.cocoa, include_stuff=not args.skip_stuff)
        source = {"cocoa": args.cocoa, "images": args.images, "gt": args.gt, "include_stuff": not args.skip_stuff}
        title = f"order recovery on {args.cocoa} ({len(dataset)} images, ground truth: {args.gt})"
        samples, total = cocoa_samples(dataset, args.images, args.gt), len(dataset)

    methods = {spec.display: spec.build(args.device) for spec in specs}
    scores = evaluate_order(samples, methods, total=total, progress=not args.no_progress)
    print(title)
    print(format_order_table(scores))
    if args.json:
        rows = [{"method": s.name, "weights": s.weights, **score_to_json(r)} for s, r in zip(specs, scores)]
        with atomic_open(args.json, "w") as f:
            json.dump({"source": source, "methods": rows}, f, indent=2)
            f.write("\n")
    return 0
