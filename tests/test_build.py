"""The compiled core is built and complete: these fail when the package only runs its NumPy fallback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import interorder_rt
from interorder_rt import _ext

BUILD_HINT = "build it with `pip install -e .` (see setup.py)"


def run_python(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("INTERORDER_NUM_THREADS", "OMP_NUM_THREADS")}
    environment.update(env)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_extension_is_built_with_openmp():
    info = interorder_rt.build_info()
    assert info["extension"], f"interorder_rt._C did not load ({info['extension_error']}): {BUILD_HINT}"
    assert info["backend"] == "cpu"
    assert info["openmp"], "interorder_rt._C was built without OpenMP"


@pytest.mark.skipif(shutil.which("nvcc") is None and not os.environ.get("CUDACXX"), reason="no CUDA compiler here")
@pytest.mark.skipif(os.environ.get("INTERORDER_CUDA", "").upper() == "OFF", reason="built with INTERORDER_CUDA=OFF")
def test_cuda_kernels_are_built_where_nvcc_exists():
    info = interorder_rt.build_info()
    assert info["cuda_compiled"], f"nvcc is available but interorder_rt._C has no CUDA kernels: {BUILD_HINT}"
    assert info["cuda_version"] and info["cuda_version"][0].isdigit()
    assert any(a.startswith("sm_") for a in info["cuda_architectures"])


def test_build_info_describes_this_machine():
    info = interorder_rt.build_info()
    assert isinstance(info["num_threads"], int) and info["num_threads"] >= 1
    assert isinstance(info["gpu_count"], int) and info["gpu_count"] >= 0
    assert info["gpu_usable"] == (info["gpu_count"] > 0)
    if not info["cuda_compiled"]:
        assert info["cuda_version"] is None and info["cuda_architectures"] == [] and not info["gpu_usable"]
    if not info["gpu_usable"]:
        with pytest.raises(RuntimeError, match="CUDA"):
            _ext.require_cuda()


def test_import_without_the_extension_falls_back_to_numpy():
    code = (
        "import sys; sys.modules['interorder_rt._C'] = None\n"
        "import numpy as np, interorder_rt\n"
        "from interorder_rt.ops import MaskSet\n"
        "info = interorder_rt.build_info()\n"
        "assert not info['extension'] and info['backend'] == 'numpy' and info['extension_error']\n"
        "ms = MaskSet(np.ones((2, 3, 4), bool))\n"
        "print(ms.backend, ms.intersection_matrix().tolist())\n"
    )
    assert run_python(code) == "numpy [[12, 12], [12, 12]]"


def test_thread_count_defaults_to_the_cores_and_follows_the_environment():
    code = "from interorder_rt import _ext; print(_ext.num_threads())"
    assert run_python(code) == str(len(os.sched_getaffinity(0)))
    assert run_python(code, INTERORDER_NUM_THREADS="3") == "3"
    warned = (
        "import warnings; warnings.simplefilter('error')\n"
        "try:\n    import interorder_rt._ext\nexcept RuntimeWarning as w:\n    print(w)"
    )
    assert "INTERORDER_NUM_THREADS" in run_python(warned, INTERORDER_NUM_THREADS="zero")


def test_set_num_threads_round_trip():
    before = _ext.num_threads()
    try:
        _ext.set_num_threads(1)
        assert _ext.num_threads() == 1
    finally:
        _ext.set_num_threads(before)
