"""Training checkpoints: random-number states, atomic saves, and the CSV log a resume rewinds."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import torch

from interorder_rt.io.atomic import atomic_open, atomic_torch_save


def rng_state(generator: np.random.Generator) -> dict:
    """The python, numpy (``generator``) and torch random states of this process."""
    state = {
        "python": random.getstate(),
        "numpy": generator.bit_generator.state,
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict, generator: np.random.Generator) -> None:
    """Put back the states ``rng_state`` captured."""
    random.setstate(state["python"])
    generator.bit_generator.state = state["numpy"]
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(payload: dict, path: str | Path) -> None:
    """Write a training checkpoint atomically (a reader never sees half a file)."""
    atomic_torch_save(payload, path)


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint this package wrote (it holds python objects, so it must be trusted)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from: {path}")
    return torch.load(path, map_location="cpu", weights_only=False)


class CsvLog:
    """Append-only CSV of training metrics; ``rewind`` drops the rows past a resumed step."""

    def __init__(self, path: str | Path, fields: list[str]) -> None:
        self.path, self.fields = Path(path), fields

    def rewind(self, last_step: int, key: str = "global_step") -> None:
        """Keep only the rows with ``key`` <= ``last_step`` (what the checkpoint has seen)."""
        if not self.path.exists():
            return
        with open(self.path, newline="") as f:
            rows = [row for row in csv.DictReader(f) if int(row[key]) <= last_step]
        with atomic_open(self.path, "w") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields)
            writer.writeheader()
            writer.writerows(rows)

    def append(self, row: dict) -> None:
        new = not self.path.exists()
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields)
            if new:
                writer.writeheader()
            writer.writerow(row)
