"""Loading an exported inference checkpoint (format tag, config, state dict) with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from torch import nn


def load_checkpoint(
    path: str | Path,
    model_name: str,
    checkpoint_format: str,
    build: Callable[[dict], nn.Module],
    map_location: str | torch.device = "cpu",
) -> nn.Module:
    """Rebuild a model in eval mode from ``path``; ``build`` makes the bare model from the config.

    Raises FileNotFoundError naming ``path`` when it does not exist, ValueError when the file is
    unreadable, of another format, holds NaN or infinite weights, or does not fit the architecture.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{model_name} weights not found: {path}")
    try:
        blob = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several unrelated types for a damaged file
        raise ValueError(f"{model_name} weights {path} are unreadable or corrupt: {exc}") from exc
    if not isinstance(blob, dict) or blob.get("format") != checkpoint_format:
        raise ValueError(f"{path} is not an {model_name} checkpoint (expected format {checkpoint_format!r})")
    _check_finite(blob.get("state_dict"), path, model_name)
    try:
        model = build(blob["config"])
        model.load_state_dict(blob["state_dict"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise ValueError(
            f"{model_name} weights {path} are inconsistent: they do not match the {model_name} architecture: {exc}"
        ) from exc
    return model.eval()


def _check_finite(state_dict: object, path: Path, model_name: str) -> None:
    """Raise ValueError naming the first floating tensor of ``state_dict`` with a NaN or infinity."""
    if not isinstance(state_dict, dict):
        return  # the architecture check below names the problem
    for name, tensor in state_dict.items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point() and not torch.isfinite(tensor).all():
            bad = int((~torch.isfinite(tensor)).sum())
            raise ValueError(f"{model_name} weights {path} are corrupt: {name} holds {bad} NaN or infinite value(s)")
