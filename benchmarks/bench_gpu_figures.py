"""The GPU check's figures: ``figures.json`` from the outputs ``gpu_check.sh`` left in a folder.

Reads ``bench_gpu.json`` (pytest-benchmark), ``cuda_tests.xml`` (JUnit) and ``build_info.json``,
and writes ``figures.json``: the CUDA test counts, every benchmark's p50 / p99 with its target
(met or not), the CPU / GPU ratio of each group (p50 over p50, same run), and what is missing.
Run: ``python benchmarks/bench_gpu_figures.py OUT_DIR``.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path


def junit_counts(path: Path) -> dict[str, int] | None:
    """passed / failed / errors / skipped of a JUnit XML file (None when it is missing)."""
    if not path.is_file():
        return None
    suites = ElementTree.parse(path).getroot()
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return {"passed": counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
            "failed": counts["failures"], "errors": counts["errors"], "skipped": counts["skipped"]}


def benchmark_rows(path: Path) -> list[dict]:
    """One row per benchmark that ran: group, route, device, p50 / p99 / min ms, rounds, target."""
    if not path.is_file():
        return []
    rows = []
    for bench in json.loads(path.read_text())["benchmarks"]:
        info = bench["extra_info"]
        target = info.get("target_p50_ms")
        rows.append({
            "group": info["ratio_group"], "route": info["route"], "device": info["device"],
            "p50_ms": round(info["p50_ms"], 3), "p99_ms": round(info["p99_ms"], 3),
            "min_ms": round(bench["stats"]["min"] * 1e3, 3), "rounds": bench["stats"]["rounds"],
            "target_p50_ms": target, "target_met": None if target is None else info["p50_ms"] <= target,
            "stage_ms": info.get("stage_ms"),
        })
    return rows


def ratios(rows: list[dict]) -> dict[str, float]:
    """CPU p50 / GPU p50 of each GPU route, against its group's CPU route (same run)."""
    cpu = {row["group"]: row["p50_ms"] for row in rows if row["device"] == "cpu"}
    return {f"{row['group']}: {row['route']}": round(cpu[row["group"]] / row["p50_ms"], 2)
            for row in rows if row["device"] == "cuda" and row["group"] in cpu}


def main(folder: str) -> int:
    out = Path(folder)
    info_path = out / "build_info.json"
    build_info = json.loads(info_path.read_text()) if info_path.is_file() else None
    rows = benchmark_rows(out / "bench_gpu.json")
    tests = junit_counts(out / "cuda_tests.xml")
    missing = []
    if not any(row["device"] == "cuda" for row in rows):
        missing.append("GPU benchmark figures: no CUDA route ran (no usable GPU, or the benchmarks failed)")
    if tests is None or tests["passed"] == 0:
        missing.append("CUDA test results: none passed (skipped without a GPU, or not run)")
    figures = {"build_info": build_info, "cuda_tests": tests, "benchmarks": rows, "cpu_over_gpu_p50": ratios(rows),
               "missing": missing}
    (out / "figures.json").write_text(json.dumps(figures, indent=2))
    print(f"CUDA tests: {tests}")
    for row in rows:
        target = "" if row["target_p50_ms"] is None else (
            f"  target p50 <= {row['target_p50_ms']} ms: {'met' if row['target_met'] else 'NOT MET'}")
        print(f"  {row['group']:<28}{row['route']:<18} p50 {row['p50_ms']:>9.3f} ms  p99 {row['p99_ms']:>9.3f} ms{target}")
    for group, ratio in figures["cpu_over_gpu_p50"].items():
        print(f"  {group}: GPU {ratio}x faster than the CPU (p50, same run)")
    for line in missing:
        print(f"  missing: {line}")
    print(f"wrote {out / 'figures.json'}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/bench_gpu_figures.py OUT_DIR")
    sys.exit(main(sys.argv[1]))
