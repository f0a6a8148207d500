"""The pose stage at real resolutions: one person 400 px tall in a 720p and a 1080p frame.

Each case holds MeshWarp (the default) and PartWarp (the previous default) with their source
analysis cached (every video frame after the first), and MeshWarp on a new source (the first
frame). The person is the same in both frames, so a stage whose cost follows the person, not the
frame, takes about as long at 1080p as at 720p. Targets (issue 10): MeshWarp at most 5 ms median
on 2 cores at 720p, 1080p within 1.2x of 720p; the conftest's table prints the ratios of one run.
Run: ``python -m pytest benchmarks/bench_pose_frame.py``; on a machine others share, with
``OMP_WAIT_POLICY=PASSIVE`` (as the CLI sets it), or waiting OpenMP threads spin on busy cores.
"""

from __future__ import annotations

import numpy as np
import pytest

from interorder_rt import _ext
from interorder_rt.pose import MeshWarp, PartWarp, SourcePerson
from interorder_rt.synth import render_person, sample_identity, sample_pose
from interorder_rt.synth.person import body_height

HEIGHT_PX = 400
FRAMES = {"720p": (720, 1280), "1080p": (1080, 1920)}


def _scaled(keypoints: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """``keypoints`` scaled to a person ``HEIGHT_PX`` tall, centred on ``centre``."""
    scale = HEIGHT_PX / body_height(keypoints)
    mid = np.nanmean(keypoints, axis=0)
    return ((keypoints - mid) * scale + np.float32(centre)).astype(np.float32)


@pytest.fixture(scope="module")
def person():
    rng = np.random.default_rng(10)
    identity = sample_identity(rng, 0)
    a = _scaled(sample_pose(rng, 256, 256), (640, 360))
    b = _scaled(sample_pose(rng, 256, 256), (600, 370))
    source = SourcePerson(*render_person(identity, a, 720, 1280), a)
    return source, b


@pytest.fixture(scope="module", autouse=True)
def two_threads():
    before = _ext.compiled().num_threads() if _ext.compiled() else None
    if before is not None:
        _ext.compiled().set_num_threads(2)
    yield
    if before is not None:
        _ext.compiled().set_num_threads(before)


def _tag(benchmark, frame: str, route: str) -> None:
    benchmark.group = f"pose-stage-{frame}"
    benchmark.extra_info.update(ratio_group="pose stage, one person 400 px tall", route=f"{route} {frame}",
                                baseline=(route, frame) == ("MeshWarp", "720p"))
    if route == "MeshWarp" and frame == "1080p":
        benchmark.extra_info["target"] = {"vs": "MeshWarp 720p", "min": 1 / 1.2}


@pytest.mark.parametrize("frame", FRAMES)
def test_mesh_warp_cached_source(benchmark, person, frame):
    source, target = person
    warp = MeshWarp()
    warp(source, target, FRAMES[frame])
    _tag(benchmark, frame, "MeshWarp")
    out = benchmark(warp, source, target, FRAMES[frame])
    assert out.mask.any()


@pytest.mark.parametrize("frame", FRAMES)
def test_part_warp_cached_source(benchmark, person, frame):
    source, target = person
    warp = PartWarp()
    warp(source, target, FRAMES[frame])
    _tag(benchmark, frame, "PartWarp")
    rgb, mask = benchmark(warp, source, target, FRAMES[frame])
    assert mask.any()


def test_mesh_warp_new_source(benchmark, person):
    source, target = person
    _tag(benchmark, "720p", "MeshWarp new src")
    out = benchmark.pedantic(lambda: MeshWarp()(source, target, FRAMES["720p"]), rounds=5, iterations=1)
    assert out.mask.any()
