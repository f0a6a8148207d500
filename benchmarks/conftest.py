"""Ratio tables for pytest-benchmark runs.

A benchmark joins a table by setting ``benchmark.extra_info``: ``ratio_group`` (the table row
group, e.g. "intersection N=32 1024²"), ``route`` (what was timed) and, for the routes others are
compared with, ``baseline=True``. Optionally ``target={"vs": route, "min": 30}`` states a speed
target against a baseline route. At the end of the run each group prints every route's minimum
and median time and its speed-up over each baseline (baseline time / route time, from the
minima: the least disturbed by other load on a shared machine), all measured in the same run.

Shared fixtures: ``torch_threads`` holds torch at the project's CPU budget (``CPU_THREADS``) for a
module; ``eight_instances`` is the frame the order-recovery benchmarks time.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
import torch

CPU_THREADS = 2  # the project's CPU budget: 2 cores


@pytest.fixture(scope="module")
def torch_threads() -> int:
    """torch runs ``CPU_THREADS`` intra-op threads for the module; the caller's setting returns after."""
    before = torch.get_num_threads()
    torch.set_num_threads(CPU_THREADS)
    yield CPU_THREADS
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def eight_instances() -> np.ndarray:
    """(8, 256, 256) modal masks: the first synthetic scene from seed 0 on with 8 instances and >= 8 bordering pairs."""
    from interorder_rt.ops import MaskSet
    from interorder_rt.synth import generate_scene

    for seed in range(100):
        scene = generate_scene(seed, n_persons=(2, 3), n_objects=(5, 6))
        masks = MaskSet(scene.modal)
        if masks.n == 8 and np.triu(masks.bordering_matrix(), 1).sum() >= 8:
            return scene.modal
    raise RuntimeError("no synthetic frame with 8 instances and 8 bordering pairs in seeds 0..99")


def _min_ms(bench) -> float:
    return bench.stats.min * 1e3


def _groups(benchmarks) -> dict[str, list]:
    groups: dict[str, list] = defaultdict(list)
    for bench in benchmarks:
        if bench and "ratio_group" in bench.extra_info:
            groups[bench.extra_info["ratio_group"]].append(bench)
    return groups


def _table(name: str, benches: list) -> list[str]:
    """The group's rows: min and median ms, and each baseline's min over the row's min."""
    baselines = {b.extra_info["route"]: _min_ms(b) for b in benches if b.extra_info.get("baseline")}
    route_width = max([len("route"), *(len(b.extra_info["route"]) for b in benches)]) + 2
    ratio_widths = [len("x vs " + r) + 2 for r in baselines]
    header = f"  {'route':<{route_width}}{'min ms':>11}{'median ms':>11}" + "".join(
        f"{'x vs ' + r:>{w}}" for r, w in zip(baselines, ratio_widths))
    lines = [name, header]
    for bench in benches:
        ms = _min_ms(bench)
        ratios = "".join(f"{base / ms:>{w}.1f}" for base, w in zip(baselines.values(), ratio_widths))
        lines.append(f"  {bench.extra_info['route']:<{route_width}}{ms:>11.3f}{bench.stats.median * 1e3:>11.3f}{ratios}")
        target = bench.extra_info.get("target")
        if target and target["vs"] in baselines:
            speedup = baselines[target["vs"]] / ms
            verdict = "met" if speedup >= target["min"] else "NOT MET"
            lines.append(f"    target >= {target['min']}x vs {target['vs']}: {speedup:.1f}x, {verdict}")
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    session = getattr(config, "_benchmarksession", None)
    if session is None:
        return
    groups = _groups(session.benchmarks)
    if not groups:
        return
    terminalreporter.section("speed ratios (same run)")
    for name, benches in groups.items():
        for line in _table(name, benches):
            terminalreporter.write_line(line)
