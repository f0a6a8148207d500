"""Order-evaluation results as a text table (one row per method) and as JSON-ready data."""

from __future__ import annotations

import math
from dataclasses import asdict

from interorder_rt.eval.order_eval import MethodScore

COLUMNS = ("method", "acc %", "P %", "R %", "F1 %", "pairs", "amodal mIoU %", "ms/image")


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.2f}"


def _row(score: MethodScore) -> tuple[str, ...]:
    counts = score.order
    miou = "-" if score.amodal is None else _percent(score.amodal.miou)
    timing = "-" if math.isnan(score.ms_per_image) else f"{score.ms_per_image:.2f}"
    return (
        score.label,
        _percent(counts.accuracy),
        _percent(counts.precision),
        _percent(counts.recall),
        _percent(counts.f1),
        str(counts.evaluated),
        miou,
        timing,
    )


def format_order_table(scores: list[MethodScore]) -> str:
    """A plain-text table: method label left-aligned, numbers right-aligned; '-' where undefined."""
    rows = [COLUMNS, *(_row(score) for score in scores)]
    widths = [max(len(row[c]) for row in rows) for c in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def score_to_json(score: MethodScore) -> dict:
    """One method's metrics (ratios in [0, 1], null where undefined) with the counts behind them."""
    return {
        "label": score.label,
        "accuracy": _finite(score.order.accuracy),
        "precision": _finite(score.order.precision),
        "recall": _finite(score.order.recall),
        "f1": _finite(score.order.f1),
        "pairs": asdict(score.order),
        "amodal_miou": None if score.amodal is None else _finite(score.amodal.miou),
        "amodal": None if score.amodal is None else asdict(score.amodal),
        "ms_per_image": _finite(score.ms_per_image),
        "images": score.images,
    }
