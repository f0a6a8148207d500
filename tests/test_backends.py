"""Backend choice, batch buckets, the TensorRT engine cache and refusal, without a GPU or TensorRT.

Where TensorRT itself would be needed, a stand-in is used only to drive our own logic (cache
keys, refusal); those stand-ins are named ``Fake...``/``fake_...``. The GPU paths are tested in
``tests/test_backends_cuda.py``, which skips without a GPU.
"""

from __future__ import annotations

import hashlib
import json
import sys
import types
from dataclasses import replace

import numpy as np
import pytest
import torch

from interorder_rt.backends import engine_cache, tensorrt
from interorder_rt.backends.agreement import TOLERANCE, disagreement, fixed_batch
from interorder_rt.backends.batching import BATCHING, Batching, Profile, bucket_for, check_buckets, pieces
from interorder_rt.backends.engine_cache import EngineCache, EngineKey
from interorder_rt.backends.select import resolve_backend
from interorder_rt.backends.torch_cuda import CudaGraphNet, on_engine_stream
from interorder_rt.models.ornet import ORNet, ORNetConfig, build_input
from interorder_rt.order_recovery import OrderRecovery

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_resolve_backend():
    assert resolve_backend("auto", CPU) == "onnxruntime"
    assert resolve_backend("auto", CUDA) == "torch"
    assert resolve_backend("auto", CUDA, onnx_weights=True) == "tensorrt"
    assert resolve_backend("auto", CPU, onnx_weights=True) == "onnxruntime"
    assert resolve_backend("tensorrt", CUDA) == "tensorrt"
    for backend, device, match in [("tvm", CPU, "backend must be one of"), ("tensorrt", CPU, "runs on a CUDA device"),
                                   ("onnxruntime", CUDA, "runs on the CPU")]:
        with pytest.raises(ValueError, match=match):
            resolve_backend(backend, device)
    with pytest.raises(ValueError, match="torch needs a .pt checkpoint"):
        resolve_backend("torch", CPU, onnx_weights=True)


def test_bucket_choice_and_pieces():
    buckets = BATCHING["ornet"].buckets
    assert buckets == (8, 16, 32, 64)
    assert [bucket_for(b, buckets) for b in (1, 8, 9, 16, 17, 64)] == [8, 8, 16, 16, 32, 64]
    with pytest.raises(ValueError, match="above the largest bucket 64"):
        bucket_for(65, buckets)
    with pytest.raises(ValueError, match=">= 1"):
        bucket_for(0, buckets)
    assert pieces(0, buckets) == []
    assert pieces(5, buckets) == [(0, 5, 8)]
    assert pieces(64, buckets) == [(0, 64, 64)]
    assert pieces(150, buckets) == [(0, 64, 64), (64, 128, 64), (128, 150, 32)]
    for batch in range(1, 200):  # pieces cover the batch exactly, each fits its bucket
        parts = pieces(batch, buckets)
        assert [p[0] for p in parts] == [0, *[p[1] for p in parts[:-1]]] and parts[-1][1] == batch
        assert all(stop - start <= size for start, stop, size in parts)


def test_buckets_and_profiles_are_checked():
    assert check_buckets([16, 8]) == (8, 16)
    for bad in ([], [0, 8], [8, 8]):
        with pytest.raises(ValueError, match="distinct positive"):
            check_buckets(bad)
    with pytest.raises(ValueError, match="min <= opt <= max"):
        Profile(1, 80, 64)
    with pytest.raises(ValueError, match="typical batch"):
        Batching((8, 16), typical=32)
    assert BATCHING["ornet"].profile() == Profile(1, 16, 64)
    assert Profile(1, 16, 64).shapes((2, 64, 64)) == ((1, 2, 64, 64), (16, 2, 64, 64), (64, 2, 64, 64))


def _key(**changes) -> EngineKey:
    key = EngineKey.for_model(b"onnx bytes", "10.9.0", "NVIDIA H200", "9.0", "fp16", Profile(1, 16, 64))
    return replace(key, **changes)


def test_engine_key_covers_everything_an_engine_depends_on():
    base = _key()
    assert base.onnx_sha256 == hashlib.sha256(b"onnx bytes").hexdigest()
    variants = [_key(onnx_sha256=EngineKey.for_model(b"other", "1", "g", "1.0", "fp16", Profile(1, 1, 1)).onnx_sha256),
                _key(tensorrt_version="11.0.0"), _key(gpu_name="NVIDIA A100"), _key(compute_capability="8.0"),
                _key(precision="fp32"), _key(profile=Profile(1, 8, 64))]
    digests = {base.digest(), *(v.digest() for v in variants)}
    assert len(digests) == 1 + len(variants)
    assert _key().digest() == base.digest()  # stable


def test_cache_builds_once_and_rebuilds_on_a_changed_key(tmp_path):
    cache = EngineCache(tmp_path)
    builds = []

    def build(tag: bytes):
        def run() -> bytes:
            builds.append(tag)
            return tag
        return run

    key = _key()
    assert cache.load_or_build("ornet", key, build(b"engine-1")) == (b"engine-1", True)
    assert cache.load_or_build("ornet", key, build(b"never")) == (b"engine-1", False)
    newer = _key(tensorrt_version="11.0.0")
    assert cache.load_or_build("ornet", newer, build(b"engine-2")) == (b"engine-2", True)
    assert builds == [b"engine-1", b"engine-2"]
    note = json.loads(cache.engine_path("ornet", key).with_suffix(".json").read_text())
    assert note["digest"] == key.digest() and note["gpu_name"] == "NVIDIA H200"
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temporary left
    cache.discard("ornet", key)
    assert not cache.engine_path("ornet", key).exists()
    assert cache.load_or_build("ornet", key, build(b"engine-3")) == (b"engine-3", True)


def test_timing_cache_is_per_tensorrt_version_and_gpu(tmp_path):
    cache = EngineCache(tmp_path)
    assert cache.read_timing_cache(_key()) == b""
    cache.write_timing_cache(_key(), b"timings")
    assert cache.read_timing_cache(_key(precision="fp32")) == b"timings"  # shared across precisions
    assert cache.read_timing_cache(_key(gpu_name="NVIDIA A100")) == b""
    assert cache.read_timing_cache(_key(tensorrt_version="11.0.0")) == b""


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("INTERORDER_CACHE_DIR", str(tmp_path / "mine"))
    assert engine_cache.cache_dir() == tmp_path / "mine" / "tensorrt"
    monkeypatch.delenv("INTERORDER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert engine_cache.cache_dir() == tmp_path / "xdg" / "interorder_rt" / "tensorrt"


def test_disagreement_names_the_reason():
    ref = np.zeros((2, 4, 4))
    assert disagreement(ref, ref + 5e-4, TOLERANCE["fp32"]) is None
    assert "differ from the reference's by up to 0.05" in disagreement(ref, ref + 0.05, TOLERANCE["fp16"])
    nan = ref.copy()
    nan[0, 0, 0] = np.nan
    assert "1 of 32 outputs are NaN or infinite" in disagreement(ref, nan, 1.0)
    assert "shape" in disagreement(ref, ref[:1], 1.0)


def test_fixed_batch_is_deterministic_and_mask_like():
    a, b = fixed_batch("ornet", (2, 64, 64), 4), fixed_batch("ornet", (2, 64, 64), 4)
    torch.testing.assert_close(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0} and 0.2 < a.mean() < 0.8
    mnet = fixed_batch("mnet", (8, 64, 64), 2)
    assert set(mnet[:, 3:5].unique().tolist()) <= {0.0, 1.0} and 0 <= mnet.min() and mnet.max() <= 1


def test_missing_tensorrt_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # makes `import tensorrt` raise ImportError
    with pytest.raises(ImportError, match="needs NVIDIA TensorRT >= 10"):
        tensorrt.import_tensorrt()
    with pytest.raises(ImportError, match="TensorRT"):
        OrderRecovery(device="cuda", backend="tensorrt")


def test_tensorrt_before_10_is_refused(monkeypatch):
    fake_tensorrt_module = types.ModuleType("tensorrt")
    fake_tensorrt_module.__version__ = "8.6.1"
    monkeypatch.setitem(sys.modules, "tensorrt", fake_tensorrt_module)
    with pytest.raises(ImportError, match="TensorRT >= 10, found 8.6.1"):
        tensorrt.import_tensorrt()


class FakeNaNEngine(tensorrt.TensorRTNet):
    """Our refusal logic around an 'engine' whose FP16 output overflowed (no TensorRT involved)."""

    def __init__(self, cache: EngineCache) -> None:
        self.kind, self.precision, self.item_shape = "ornet", "fp16", (2, 16, 16)
        self.key, self.cache = _key(), cache

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((len(x), 16, 16), float("nan"))


def test_an_engine_that_disagrees_is_refused_and_dropped_from_the_cache(tmp_path):
    cache = EngineCache(tmp_path)
    cache.store("ornet", _key(), b"bad engine")
    engine = FakeNaNEngine(cache)
    reference = ORNet(ORNetConfig(size=16, widths=(4, 8))).eval()
    with pytest.raises(tensorrt.EngineRefused, match="refusing the fp16 TensorRT ornet engine: .* NaN or infinite"):
        engine._verify(reference)
    assert not cache.engine_path("ornet", _key()).exists()


def test_gpu_backends_need_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("a GPU is usable here")
    with pytest.raises(RuntimeError, match="needs a usable CUDA device"):
        CudaGraphNet(ORNet(ORNetConfig(size=16, widths=(4, 8))), (2, 16, 16), CUDA, BATCHING["ornet"])
    with on_engine_stream(CPU, None):  # a no-op off CUDA
        pass


def test_build_input_takes_tensors_like_arrays():
    rng = np.random.default_rng(0)
    target, occluder = rng.random((2, 3, 8, 8)) < 0.5
    rgb = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    expected = build_input(target, occluder, rgb)
    got = build_input(torch.from_numpy(target), torch.from_numpy(occluder), torch.from_numpy(rgb))
    torch.testing.assert_close(got, expected)


def test_build_info_says_what_ran_on_a_gpu():
    import interorder_rt

    info = interorder_rt.build_info()
    assert set(info["gpu_paths_run"]) == {"cuda_kernels", "torch_cuda_graphs", "tensorrt", "cupy_frames", "device_path"}
    stages = info["device_path_stages"]
    assert stages["compositing"] == "device" and stages["mnet_completion"] == "device"
    assert stages["stream_memories"] == "device"  # Engine(device="cuda").stream keeps its memories there
    assert info["gpu_paths_run"]["tensorrt"] is False  # TensorRT has never run here
    assert info["torch_cuda"] in (True, False)  # torch is imported by now
    assert info["onnxruntime_version"] is not None


def test_output_image_follows_the_input_kind():
    from interorder_rt.backends.device_arrays import like, to_host

    image = np.zeros((4, 5, 3), np.uint8)
    assert like(image + 1, image).dtype == np.uint8 and isinstance(like(image, image), np.ndarray)
    as_torch = like(image + 1, torch.zeros(4, 5, 3, dtype=torch.uint8))
    assert isinstance(as_torch, torch.Tensor) and as_torch.device.type == "cpu" and int(as_torch.max()) == 1
    assert to_host(image) is image  # host arrays pass through untouched
