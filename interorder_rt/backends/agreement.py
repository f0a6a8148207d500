"""Whether a compiled net agrees with its reference: a fixed input batch, a tolerance, a reason.

Used to refuse a TensorRT engine that disagrees with torch (``tensorrt``) and to measure the FP16
ONNX model against the FP32 one (``interorder export``).
"""

from __future__ import annotations

import numpy as np
import torch

# Largest |compiled - reference| allowed on the fixed batch, in output units (ORNet: mask
# probability after the sigmoid; MNet: RGB in [0, 1]). On the shipped weights the FP16 ONNX model
# in ONNX Runtime is 2.1e-3 (ORNet) and 4.9e-4 (MNet) from torch's FP32 output
# (``interorder export`` prints it; tests/test_export.py holds it to the tolerance).
TOLERANCE = {"fp32": 1e-3, "fp16": 1e-2}


def disagreement(reference: np.ndarray, candidate: np.ndarray, tolerance: float) -> str | None:
    """Why ``candidate`` does not match ``reference`` within ``tolerance`` (max abs), or None."""
    if candidate.shape != reference.shape:
        return f"output shape {candidate.shape} differs from the reference's {reference.shape}"
    bad = ~np.isfinite(candidate)
    if bad.any():
        return f"{int(bad.sum())} of {candidate.size} outputs are NaN or infinite"
    worst = float(np.abs(candidate.astype(np.float64) - reference).max(initial=0.0))
    if worst > tolerance:
        return f"outputs differ from the reference's by up to {worst:.3g} (tolerance {tolerance:g})"
    return None


def fixed_batch(kind: str, item_shape: tuple[int, ...], batch: int, seed: int = 0) -> torch.Tensor:
    """A deterministic (batch, C, S, S) input like the real ones: blocky 0/1 masks in the mask
    channels (ORNet: 0, 1; MNet: 3, 4), smooth values in [0, 1] elsewhere."""
    generator = torch.Generator().manual_seed(seed)
    c, s, _ = item_shape
    coarse = torch.rand(batch, c, max(s // 8, 1), max(s // 8, 1), generator=generator)
    x = torch.nn.functional.interpolate(coarse, size=(s, s), mode="bilinear", align_corners=False)
    masks = (0, 1) if kind == "ornet" else (3, 4)
    x[:, masks] = (x[:, masks] > 0.5).float()
    return x


def output_view(kind: str, y: torch.Tensor) -> np.ndarray:
    """What the comparison looks at: ORNet logits as probabilities, MNet RGB as it is."""
    y = y.float()
    return (torch.sigmoid(y) if kind == "ornet" else y).cpu().numpy().astype(np.float64)
