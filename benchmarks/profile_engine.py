"""Where a frame of the engine benchmark spends its time: a profile of its steady state.

``bench_engine.py`` says how long a route takes; this says which functions take it, so the
README's breakdowns of a frame come from a command. The scenes and streams are the benchmark's.
``--device cuda`` runs them as CUDA frames through the device path, and there ``--profiler torch``
uses torch's profiler instead of cProfile: the host operators, the GPU kernels, and the copies and
synchronisations that wait for them.
Run: ``python -m benchmarks.profile_engine --size 1080p-720p-people --route run``.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats

import torch

from benchmarks.bench_engine import moving_frames, noisy_frames, on_device, scene_at, wide_scene_at
from benchmarks.conftest import CPU_THREADS
from interorder_rt.engine import Engine

SIZES = {"256": (256, 256), "512": (512, 512), "720p": (720, 1280), "1080p": (1080, 1920), "1080p-720p-people": None}
ROUTES = ("run", "stream", "stream-noisy", "stream-moving")
WARMUP = 3


def frames(engine: Engine, size: str, route: str, count: int, device: str = "cpu"):
    """The route's frames, one a step, for the scene of ``size`` (as torch tensors on ``device``
    when it is not the CPU); the moving stream has ``count`` of them."""
    frame = wide_scene_at(engine) if SIZES[size] is None else scene_at(engine, SIZES[size])
    if route == "run":
        given = next(on_device([frame], device))
        return (engine.run(given) for _ in itertools.count())
    if route == "stream-moving":
        sequence = moving_frames(frame, SIZES[size], count)
    else:
        sequence = noisy_frames(frame) if route == "stream-noisy" else itertools.repeat(frame)
    return engine.stream(on_device(sequence, device))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="720p")
    parser.add_argument("--route", choices=ROUTES, default="stream")
    parser.add_argument("--frames", type=int, default=20, help="frames profiled after the warm-up")
    parser.add_argument("--top", type=int, default=25, help="functions listed, by their own time")
    parser.add_argument("--callers", default=None, help="also list the callers of functions matching this (cProfile)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--profiler", choices=("cprofile", "torch"), default="cprofile")
    args = parser.parse_args(argv)
    if args.frames < 1:
        parser.error("--frames must be at least 1")
    if args.route == "stream-moving" and SIZES[args.size] is None:
        parser.error("the moving stream has no 1080p-720p-people scene")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch sees no CUDA GPU here")
    if args.profiler == "torch" and args.device == "cpu":
        parser.error("--profiler torch sees torch's operators only, and the CPU path runs NumPy and ONNX Runtime: "
                     "use cProfile there")
    torch.set_num_threads(CPU_THREADS)
    engine = Engine(device=args.device, backend="torch" if args.device == "cuda" else "auto")
    steps = frames(engine, args.size, args.route, WARMUP + args.frames, args.device)
    for _ in range(WARMUP):
        next(steps)
    if args.profiler == "torch":
        torch_profile(steps, args)
        return
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.frames):
        next(steps)
    profile.disable()
    stats = pstats.Stats(profile).sort_stats("tottime")
    print(f"{args.route} at {args.size}: {stats.total_tt / args.frames * 1e3:.1f} ms a frame under the profiler, "
          f"{args.frames} frames; times below are for all of them")
    stats.print_stats(args.top)
    if args.callers:
        stats.print_callers(args.callers)


def torch_profile(steps, args: argparse.Namespace) -> None:
    """``args.frames`` steps under torch's profiler: the operators by their own host time and, on
    CUDA, the kernels by their GPU time."""
    from torch.profiler import ProfilerActivity, profile

    cuda = args.device == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as recorded:
        for _ in range(args.frames):
            next(steps)
        if cuda:
            torch.cuda.synchronize()
    table = recorded.key_averages()
    print(f"{args.route} at {args.size} on {args.device}, {args.frames} frames under torch's profiler")
    print(table.table(sort_by="self_cpu_time_total", row_limit=args.top, max_name_column_width=80))
    if cuda:
        print(table.table(sort_by="self_cuda_time_total", row_limit=args.top, max_name_column_width=80))


if __name__ == "__main__":
    main()
