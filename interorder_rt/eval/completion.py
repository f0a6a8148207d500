"""Content-completion quality on held-out synthetic scenes: MNet against OpenCV inpainting.

Two tasks, scored where the truth is known exactly:

- **instance**: every occluded instance's hidden part (``amodal & ~modal``, the true amodal mask
  given) is filled and compared with the instance's full appearance (``Instance.rgb``);
- **background**: an instance is taken out of the scene (the others are painted complete, as the
  merging stage does), and the background it frees (its visible pixels that no other instance
  covers) is filled and compared with ``Scene.background``.

``exemplar`` is the PatchMatch fill (``interorder_rt.compose.exemplar``) given the same pixels;
``engine`` the same fill as the Engine calls it for background, told to avoid the other
instances (no patch copied from them, none of their colours matched as background).
``mnet_base`` is the classical fill MNet starts from and corrects, without the net
(``ContentCompletion(instance="telea", background="telea")``: Telea at full resolution near the
hole, the crop's Telea fill resized farther away), so ``mnet`` against ``mnet_base`` is what the
learning adds. Baselines: ``telea`` / ``ns`` are ``cv2.inpaint`` (Telea / Navier-Stokes, radius 3)
given the same pixels as MNet (for an instance, only its own visible pixels), every unknown pixel
of the hole's window filled at full resolution; ``telea_scene`` is the naive use, Telea on the
hidden part with the whole frame around it. Scores are pooled over all hole pixels: L1 = mean
absolute error (0-255 scale), PSNR from the pooled mean squared error.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterator

import cv2
import numpy as np
from tqdm import tqdm

from interorder_rt.completion import ContentCompletion, inpaint, inpaint_instance
from interorder_rt.synth import Scene, generate_scene

MIN_HOLE = 16  # pixels; smaller holes say little and would be dominated by edge effects
MAX_EVAL_SEED = 2**32  # training scenes use seeds at or above this (training.mnet.data)
INSTANCE_METHODS = ("mnet", "mnet_base", "exemplar", "telea", "ns", "telea_scene")
BACKGROUND_METHODS = ("mnet", "mnet_base", "exemplar", "engine", "telea", "ns")


@dataclass
class Score:
    """Pooled error of one method on one task."""

    cases: int = 0
    pixels: int = 0
    abs_sum: float = 0.0
    sq_sum: float = 0.0
    seconds: float = 0.0

    def add(self, filled: np.ndarray, seconds: float, truth: np.ndarray, hole: np.ndarray) -> None:
        diff = filled[hole].astype(np.float64) - truth[hole].astype(np.float64)
        self.cases += 1
        self.pixels += int(hole.sum())
        self.abs_sum += float(np.abs(diff).sum())
        self.sq_sum += float((diff**2).sum())
        self.seconds += seconds

    @property
    def l1(self) -> float:
        return self.abs_sum / max(3 * self.pixels, 1)

    @property
    def psnr(self) -> float:
        mse = self.sq_sum / max(3 * self.pixels, 1)
        return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)

    @property
    def ms_per_case(self) -> float:
        return 1000.0 * self.seconds / max(self.cases, 1)

    def summary(self) -> dict:
        return {**asdict(self), "l1": self.l1, "psnr": self.psnr, "ms_per_case": self.ms_per_case}


def instance_cases(scene: Scene) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(image, visible, amodal, truth rgb) for each instance with a hidden part of >= MIN_HOLE pixels."""
    for inst in scene.instances:
        if np.count_nonzero(inst.amodal & ~inst.modal) >= MIN_HOLE:
            yield scene.image, inst.modal, inst.amodal, inst.rgb


def without_instance(scene: Scene, k: int) -> np.ndarray:
    """The frame with instance k taken out and every other instance painted complete."""
    image = scene.background.copy()
    for j in scene.layering:
        if j != k:
            inst = scene.instances[j]
            image[inst.amodal] = inst.rgb[inst.amodal]
    return image


def background_cases(scene: Scene) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(image with the hole blanked, freed hole, true background) per instance freeing >= MIN_HOLE pixels."""
    amodal = scene.amodal
    for k, inst in enumerate(scene.instances):
        others = np.delete(amodal, k, axis=0).any(axis=0)
        hole = inst.modal & ~others
        if np.count_nonzero(hole) >= MIN_HOLE:
            image = without_instance(scene, k)
            image[hole] = 0
            yield image, hole, scene.background


def _timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def evaluate_completion(n_scenes: int, seed: int = 0, *, completer: ContentCompletion | None = None,
                        height: int = 256, width: int = 256, progress: bool = True) -> dict[str, dict[str, Score]]:
    """Scores per task (``instance``, ``background``) and method on scenes ``seed .. seed + n - 1``."""
    if n_scenes < 1:
        raise ValueError(f"need at least one scene, got {n_scenes}")
    if seed < 0 or seed + n_scenes > MAX_EVAL_SEED:
        raise ValueError(f"evaluation seeds must lie in [0, {MAX_EVAL_SEED}) to stay apart from training scenes")
    completer = completer or ContentCompletion()
    exemplar = ContentCompletion(background="exemplar", instance="exemplar")
    base = ContentCompletion(background="telea", instance="telea")  # MNet's classical fill, without the net
    scores = {"instance": {m: Score() for m in INSTANCE_METHODS},
              "background": {m: Score() for m in BACKGROUND_METHODS}}
    telea, ns = cv2.INPAINT_TELEA, cv2.INPAINT_NS
    for s in tqdm(range(seed, seed + n_scenes), desc="eval completion", disable=not progress):
        scene = generate_scene(s, height=height, width=width)
        for image, visible, amodal, truth in instance_cases(scene):
            hole = amodal & ~visible
            runs = {
                "mnet": lambda: completer.complete(image, visible, amodal),
                "mnet_base": lambda: base.complete(image, visible, amodal),
                "exemplar": lambda: exemplar.complete(image, visible, amodal),
                "telea": lambda: inpaint_instance(image, visible, amodal, telea),
                "ns": lambda: inpaint_instance(image, visible, amodal, ns),
                "telea_scene": lambda: inpaint(image, hole, telea),
            }
            for method, run in runs.items():
                scores["instance"][method].add(*_timed(run), truth, hole)
        painted = scene.amodal.any(axis=0)  # every instance, as without_instance paints the others
        for image, hole, truth in background_cases(scene):
            runs = {
                "mnet": lambda: completer.fill_background(image, hole),
                "mnet_base": lambda: base.fill_background(image, hole),
                "exemplar": lambda: exemplar.fill_background(image, hole),
                "engine": lambda: exemplar.fill_background(image, hole, avoid=painted & ~hole),
                "telea": lambda: inpaint(image, hole, telea),
                "ns": lambda: inpaint(image, hole, ns),
            }
            for method, run in runs.items():
                scores["background"][method].add(*_timed(run), truth, hole)
    return scores


def format_table(scores: dict[str, dict[str, Score]]) -> str:
    """A plain-text table: task, method, cases, hole pixels, L1, PSNR, ms per case."""
    lines = [f"{'task':<11}{'method':<13}{'cases':>6}{'pixels':>9}{'L1':>8}{'PSNR':>8}{'ms':>8}"]
    for task, methods in scores.items():
        for method, s in methods.items():
            lines.append(f"{task:<11}{method:<13}{s.cases:>6}{s.pixels:>9}{s.l1:>8.2f}{s.psnr:>8.2f}{s.ms_per_case:>8.2f}")
    return "\n".join(lines)
