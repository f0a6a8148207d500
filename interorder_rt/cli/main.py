"""``interorder`` entry point: one sub-command per module, each with ``register(subparsers)``.

A sub-command module keeps its heavy imports inside the function it runs, so that
``interorder --help`` stays fast, and so that the OpenMP setting below comes before torch loads.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from interorder_rt.cli.errors import USER_ERRORS, check_device, describe

# The command's process runs ORNet and MNet in ONNX Runtime beside the OpenMP threads of torch and
# of the mask kernels. OpenMP threads that sleep rather than spin while they wait measured faster
# there on an idle machine and far steadier on a busy one (benchmarks/bench_contention.py). The
# runtime reads this once, when torch loads it; a setting of the user's wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

COMMANDS = ["demo", "synth", "eval", "transfer", "video", "export"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interorder",
        description="Occlusion-aware human pose transfer (InterOrderNet): demo, data, evaluation, transfer.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"interorder_rt.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"interorder_rt.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; its return value is the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "device", None) is not None:
            check_device(args.device)
        return int(args.run(args) or 0)
    except USER_ERRORS as exc:
        print(f"interorder {args.command}: error: {describe(exc)}", file=sys.stderr)
        return 2
