"""Build of the compiled core ``interorder_rt._C`` through CMake (see CMakeLists.txt).

Environment knobs:
- ``INTERORDER_CUDA``: ``AUTO`` (default: CUDA kernels when nvcc is found), ``ON`` (required), ``OFF``;
- ``INTERORDER_CUDA_ARCHS``: CMake CUDA architectures, default ``80-real;90`` (SASS 8.0/9.0, PTX 9.0);
- ``CMAKE_BUILD_PARALLEL_LEVEL``: compile jobs (default: the machine's cores).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
CUDA_MODES = ("AUTO", "ON", "OFF")


class CMakeExtension(Extension):
    """An extension whose sources CMake knows; setuptools only places the result."""

    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


def _cmake() -> str:
    found = shutil.which("cmake")
    if found:
        return found
    try:
        import cmake  # the PyPI cmake package, a build requirement in pyproject.toml
    except ImportError as exc:
        raise RuntimeError("CMake >= 3.18 is needed to build interorder_rt._C") from exc
    return str(Path(cmake.CMAKE_BIN_DIR) / "cmake")


class CMakeBuild(build_ext):
    """Configures and builds CMakeLists.txt, writing _C next to the package sources or wheel."""

    def build_extension(self, ext: Extension) -> None:
        import pybind11

        cuda = os.environ.get("INTERORDER_CUDA", "AUTO").upper()
        if cuda not in CUDA_MODES:
            raise ValueError(f"INTERORDER_CUDA must be one of {CUDA_MODES}, got {cuda!r}")
        target_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        build_dir = Path(self.build_temp).resolve() / ext.name
        build_dir.mkdir(parents=True, exist_ok=True)
        config = [
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={target_dir}",
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
            f"-DINTERORDER_CUDA={cuda}",
        ]
        if "INTERORDER_CUDA_ARCHS" in os.environ:
            config.append(f"-DINTERORDER_CUDA_ARCHS={os.environ['INTERORDER_CUDA_ARCHS']}")
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        cmake = _cmake()
        subprocess.run([cmake, "-S", str(ROOT), "-B", str(build_dir), *config], check=True)
        subprocess.run([cmake, "--build", str(build_dir), "--parallel", jobs], check=True)


setup(ext_modules=[CMakeExtension("interorder_rt._C")], cmdclass={"build_ext": CMakeBuild})
