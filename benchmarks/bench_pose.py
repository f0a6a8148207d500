"""Pose transfer per call: MeshWarp (default) and PartWarp against one global affine warp, at
256 x 256 and 512 x 512 (``bench_pose_frame.py`` times real resolutions).

The baseline moves the whole person by the torso's affine transform (``cv2.warpAffine`` of the
image and mask), the cheapest warp there is; each group holds MeshWarp and PartWarp with their
source analysis cached (every video frame after the first), PartWarp on a new source (the first
frame), and the baseline, so pytest-benchmark's table shows their ratio. Speed: ``python -m pytest benchmarks/bench_pose.py``.

Quality: ``python -m benchmarks.bench_pose`` prints silhouette IoU and mask-SSIM against the
synthetic ground truth (identity X rendered in pose B) over 50 random pose pairs, for all three,
and the mean IoU per change of view (front, back, side).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from interorder_rt.pose import PartWarp, SourcePerson
from interorder_rt.pose.mesh_warp import MeshWarp
from interorder_rt.pose.part_fit import fit_part_transforms
from interorder_rt.synth import render_person, sample_identity, sample_pose

SEED = 7
PAIRS = 50


def global_affine(source: SourcePerson, target_keypoints: np.ndarray, size: tuple[int, int]):
    """The baseline: the whole person moved by the torso's transform -> (rgb, mask)."""
    torso = fit_part_transforms(np.asarray(target_keypoints, np.float32), source.keypoints)[0]
    matrix = torso.matrix.astype(np.float32)
    flags, dsize = cv2.WARP_INVERSE_MAP, size[::-1]
    mask = cv2.warpAffine(source.mask.view(np.uint8), matrix, dsize, flags=flags | cv2.INTER_NEAREST) > 0
    rgb = cv2.warpAffine(source.image, matrix, dsize, flags=flags | cv2.INTER_LINEAR)
    rgb[~mask] = 0
    return rgb, mask


def pose_pair(rng: np.random.Generator, identity_id: int, size: int):
    """(source person in pose A, pose B, ground truth (rgb, mask) of the same identity in pose B)."""
    identity, a, b = sample_identity(rng, identity_id), sample_pose(rng, size, size), sample_pose(rng, size, size)
    return SourcePerson(*render_person(identity, a, size, size), a), b, render_person(identity, b, size, size)


@pytest.fixture(scope="module", params=[256, 512], ids=lambda s: f"{s}px")
def case(request):
    size = request.param
    source, target, _ = pose_pair(np.random.default_rng(SEED), 0, size)
    return source, target, (size, size)


def _grouped(benchmark, size: tuple[int, int]):
    benchmark.group = f"pose-transfer-{size[0]}px"
    return benchmark


def test_mesh_warp_cached_source(benchmark, case):
    source, target, size = case
    benchmark = _grouped(benchmark, size)
    warp = MeshWarp()
    warp(source, target, size)
    rgb, mask = benchmark(warp, source, target, size)
    assert mask.any() and rgb.shape == (*size, 3)


def test_part_warp_cached_source(benchmark, case):
    source, target, size = case
    benchmark = _grouped(benchmark, size)
    warp = PartWarp()
    warp(source, target, size)
    rgb, mask = benchmark(warp, source, target, size)
    assert mask.any() and rgb.shape == (*size, 3)


def test_part_warp_new_source(benchmark, case):
    source, target, size = case
    benchmark = _grouped(benchmark, size)
    rgb, mask = benchmark(lambda: PartWarp()(source, target, size))
    assert mask.any()


def test_global_affine_baseline(benchmark, case):
    source, target, size = case
    benchmark = _grouped(benchmark, size)
    rgb, mask = benchmark(global_affine, source, target, size)
    assert mask.any()


def _view_class(keypoints: np.ndarray) -> str:
    """``front``, ``back`` or ``side`` (left and right together) of a pose."""
    from interorder_rt.pose.skeleton import body_scale
    from interorder_rt.pose.views import SIDE_VIEWS, view_of

    view = view_of(keypoints, body_scale(keypoints))
    return "side" if view in SIDE_VIEWS else view


def quality_report(pairs: int = PAIRS, size: int = 256) -> None:
    """Print mean / median / min silhouette IoU and mean mask-SSIM against the ground truth, then
    the mean IoU per change of view (source -> target)."""
    from interorder_rt.eval.image_metrics import mask_ssim

    methods = {"MeshWarp": MeshWarp(), "PartWarp": PartWarp(), "global affine": global_affine}
    scores = {name: ([], []) for name in methods}
    views = []
    rng = np.random.default_rng(SEED)
    for k in range(pairs):
        source, target, (truth_rgb, truth_mask) = pose_pair(rng, k, size)
        views.append(f"{_view_class(source.keypoints)} -> {_view_class(target)}")
        for name, method in methods.items():
            rgb, mask = method(source, target, (size, size))
            scores[name][0].append((mask & truth_mask).sum() / (mask | truth_mask).sum())
            scores[name][1].append(mask_ssim(rgb, truth_rgb, truth_mask))
    print(f"{pairs} random pose pairs at {size}x{size}, against render_person(X, pose B):")
    for name, (ious, ssims) in scores.items():
        print(f"  {name:14s} IoU mean {np.mean(ious):.3f} median {np.median(ious):.3f} min {np.min(ious):.3f}"
              f" | mask-SSIM mean {np.mean(ssims):.3f}")
    print("mean IoU by view, source -> target:")
    views = np.array(views)
    for change in sorted(set(views)):
        chosen = views == change
        row = "  ".join(f"{name} {np.mean(np.array(scores[name][0])[chosen]):.3f}" for name in methods)
        print(f"  {change:16s} ({int(chosen.sum()):2d} pairs)  {row}")


if __name__ == "__main__":
    quality_report()
