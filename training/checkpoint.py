"""Training checkpoints: random-number states, checksummed atomic saves, and the CSV log a resume rewinds.

A training checkpoint is untrusted input: it is read with ``torch.load(weights_only=True)``, so it
holds only tensors and plain data (dicts, lists, tuples, numbers, strings), never code. The file is
a one-line header with the SHA-256 of the torch payload that follows, so a truncated or bit-rotted
file is refused rather than resumed.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import random
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import torch

from interorder_rt.io.atomic import atomic_open, atomic_write_bytes

MAGIC = b"interorder_rt training checkpoint 1 sha256 "
DIGEST_LENGTH = 64  # hex characters of a SHA-256


class CheckpointError(ValueError):
    """A training checkpoint that is damaged, of another kind, or does not fit the run."""


def rng_state(generator: np.random.Generator) -> dict:
    """The python, numpy (``generator``) and torch random states of this process, as plain data."""
    version, internal, gauss = random.getstate()
    state = {
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
        "numpy": generator.bit_generator.state,
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict, generator: np.random.Generator) -> None:
    """Put back the states ``rng_state`` captured."""
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"]), python["gauss"]))
    generator.bit_generator.state = state["numpy"]
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(payload: dict, path: str | Path) -> None:
    """Write a training checkpoint atomically (a reader never sees half a file), with its checksum."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    atomic_write_bytes(path, MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body)


def load_checkpoint(path: str | Path, required: Iterable[str] = ()) -> dict:
    """Read a checkpoint ``save_checkpoint`` wrote, holding at least the keys ``required``.

    Raises FileNotFoundError when ``path`` is missing and CheckpointError (a ValueError) naming
    ``path`` when it is empty, of another kind, fails its checksum, holds anything but tensors and
    plain data, or lacks a required key.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from: {path}")
    raw = path.read_bytes()
    if not raw:
        raise CheckpointError(f"checkpoint {path} is empty")
    if not raw.startswith(MAGIC):
        raise CheckpointError(
            f"checkpoint {path} is not an interorder_rt training checkpoint (no header; "
            "checkpoints of versions before the checksum cannot be resumed)"
        )
    start = len(MAGIC) + DIGEST_LENGTH + 1
    digest, body = raw[len(MAGIC) : start - 1], raw[start:]
    if raw[start - 1 : start] != b"\n" or hashlib.sha256(body).hexdigest().encode() != digest:
        raise CheckpointError(
            f"checkpoint {path} is corrupt: its contents do not match their checksum (truncated or damaged)"
        )
    try:
        state = torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)
    except Exception as exc:  # the unpickler refuses non-plain types with several exception types
        raise CheckpointError(f"checkpoint {path} holds more than tensors and plain data, refused: {exc}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, not a dict of training state")
    missing = [key for key in required if key not in state]
    if missing:
        names = ", ".join(map(repr, missing))
        raise CheckpointError(f"checkpoint {path} lacks {names}: not a checkpoint of this kind of run")
    return state


@contextlib.contextmanager
def applying(path: str | Path) -> Iterator[None]:
    """Around putting a loaded checkpoint's state into a run: its errors become CheckpointError naming ``path``."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {path} does not fit this run: {exc}") from exc


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
