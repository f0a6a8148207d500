"""Where a frame of the engine benchmark spends its time: a cProfile of its steady state.

``bench_engine.py`` says how long a route takes; this says which functions take it, so the
README's breakdowns of a frame come from a command. The scenes and streams are the benchmark's.
Run: ``python -m benchmarks.profile_engine --size 1080p-720p-people --route run``.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats

import torch

from benchmarks.bench_engine import moving_frames, noisy_frames, scene_at, wide_scene_at
from benchmarks.conftest import CPU_THREADS
from interorder_rt.engine import Engine

SIZES = {"256": (256, 256), "512": (512, 512), "720p": (720, 1280), "1080p": (1080, 1920), "1080p-720p-people": None}
ROUTES = ("run", "stream", "stream-noisy", "stream-moving")
WARMUP = 3


def frames(engine: Engine, size: str, route: str):
    """The route's frames, one a step, for the scene of ``size``."""
    frame = wide_scene_at(engine) if SIZES[size] is None else scene_at(engine, SIZES[size])
    if route == "run":
        return (engine.run(frame) for _ in itertools.count())
    if route == "stream-moving":
        return engine.stream(moving_frames(frame, SIZES[size]))
    return engine.stream(noisy_frames(frame) if route == "stream-noisy" else itertools.repeat(frame))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="720p")
    parser.add_argument("--route", choices=ROUTES, default="stream")
    parser.add_argument("--frames", type=int, default=20, help="frames profiled after the warm-up")
    parser.add_argument("--top", type=int, default=25, help="functions listed, by their own time")
    parser.add_argument("--callers", default=None, help="also list the callers of functions matching this")
    args = parser.parse_args(argv)
    if args.frames < 1:
        parser.error("--frames must be at least 1")
    if args.route == "stream-moving" and SIZES[args.size] is None:
        parser.error("the moving stream has no 1080p-720p-people scene")
    torch.set_num_threads(CPU_THREADS)
    steps = frames(Engine(), args.size, args.route)
    for _ in range(WARMUP):
        next(steps)
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


if __name__ == "__main__":
    main()
