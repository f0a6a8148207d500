"""On-disk cache of built TensorRT engines and of TensorRT's timing cache.

A serialized engine is only valid for the exact model, TensorRT version, GPU and build settings
it was built with; wrappers that key engines by the model alone load stale engines after a
driver, TensorRT or GPU change. Here an engine's file name carries the sha256 of everything that
makes it: the ONNX bytes, the TensorRT version, the GPU's name and compute capability, the
precision and the optimization profile, so any change builds a new engine. Files are written
atomically (``io.atomic``), each with a JSON note of its key beside it. Nothing here imports
TensorRT: the backend passes in the versions and a build function.

The directory: ``$INTERORDER_CACHE_DIR/tensorrt`` when that is set, else
``$XDG_CACHE_HOME/interorder_rt/tensorrt``, else ``~/.cache/interorder_rt/tensorrt``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from interorder_rt.backends.batching import Profile
from interorder_rt.io.atomic import atomic_write_bytes


def cache_dir() -> Path:
    """Where engines and timing caches are kept (see the module docstring)."""
    root = os.environ.get("INTERORDER_CACHE_DIR")
    if root:
        return Path(root) / "tensorrt"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "interorder_rt" / "tensorrt"


@dataclass(frozen=True)
class EngineKey:
    """Everything a built engine depends on."""

    onnx_sha256: str
    tensorrt_version: str
    gpu_name: str
    compute_capability: str  # "9.0"
    precision: str
    profile: Profile

    @classmethod
    def for_model(cls, onnx: bytes, tensorrt_version: str, gpu_name: str, compute_capability: str,
                  precision: str, profile: Profile) -> "EngineKey":
        return cls(hashlib.sha256(onnx).hexdigest(), tensorrt_version, gpu_name, compute_capability, precision, profile)

    def digest(self) -> str:
        """sha256 of the key's fields, as hex."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    def note(self) -> str:
        return json.dumps(asdict(self) | {"digest": self.digest()}, indent=2, sort_keys=True)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").lower() or "unknown"


class EngineCache:
    """Engines by key, and one timing cache per TensorRT version and GPU, under ``root``."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir()

    def engine_path(self, name: str, key: EngineKey) -> Path:
        return self.root / f"{_slug(name)}-{key.precision}-{key.digest()[:20]}.plan"

    def timing_cache_path(self, key: EngineKey) -> Path:
        gpu = _slug(f"{key.gpu_name}-sm{key.compute_capability}")
        return self.root / f"timing-trt{_slug(key.tensorrt_version)}-{gpu}.cache"

    def load_or_build(self, name: str, key: EngineKey, build: Callable[[], bytes]) -> tuple[bytes, bool]:
        """The engine bytes for ``key`` and whether they were just built.

        A cached file is read when present; otherwise ``build()`` makes the engine, which is
        written atomically with its key note before it is returned.
        """
        path = self.engine_path(name, key)
        if path.is_file():
            return path.read_bytes(), False
        return self.store(name, key, build()), True

    def store(self, name: str, key: EngineKey, engine: bytes) -> bytes:
        """Write ``engine`` for ``key`` (replacing a stale or refused file) and return it."""
        path = self.engine_path(name, key)
        atomic_write_bytes(path, engine)
        atomic_write_bytes(path.with_suffix(".json"), key.note().encode())
        return engine

    def discard(self, name: str, key: EngineKey) -> None:
        """Remove the engine of ``key`` (one that failed to load or was refused)."""
        path = self.engine_path(name, key)
        for stale in (path, path.with_suffix(".json")):
            stale.unlink(missing_ok=True)

    def read_timing_cache(self, key: EngineKey) -> bytes:
        """The serialized timing cache for this TensorRT version and GPU, or b"" for none yet."""
        path = self.timing_cache_path(key)
        return path.read_bytes() if path.is_file() else b""

    def write_timing_cache(self, key: EngineKey, data: bytes) -> None:
        atomic_write_bytes(self.timing_cache_path(key), data)
