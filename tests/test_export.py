"""``interorder export``: ONNX files that equal torch, carry their settings, and load back."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from interorder_rt.backends import onnx_models, onnx_runtime
from interorder_rt.backends.agreement import TOLERANCE, fixed_batch, output_view
from interorder_rt.backends.select import torch_model
from interorder_rt.cli.main import main
from interorder_rt.completion import DEFAULT_WEIGHTS, ContentCompletion
from interorder_rt.order_recovery import SHIPPED_WEIGHTS, OrderRecovery
from interorder_rt.synth import generate_scene

pytestmark = pytest.mark.skipif(not onnx_runtime.available(), reason="onnx / onnxruntime not installed")
WEIGHTS = {"ornet": SHIPPED_WEIGHTS, "mnet": DEFAULT_WEIGHTS}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    assert main(["export", "-o", str(out), "--tensorrt", "off"]) == 0
    return out


def _runtime(path) -> onnx_runtime.OnnxRuntimeModel:
    return onnx_runtime.OnnxRuntimeModel.from_onnx(path.read_bytes(), threads=1)


def test_files_and_manifest(exported):
    import onnx

    manifest = json.loads((exported / "models.json").read_text())
    assert [e["file"] for e in manifest] == ["ornet.onnx", "ornet.fp16.onnx", "mnet.onnx", "mnet.fp16.onnx"]
    for entry in manifest:
        onnx.checker.check_model(onnx.load(exported / entry["file"]))
        assert entry["input"]["name"] == "x" and entry["output"]["name"] == "y"
        assert entry["input"]["shape"][0] == entry["output"]["shape"][0] == "batch"
    assert manifest[0]["input"]["shape"] == ["batch", 2, 64, 64] and manifest[0]["output"]["shape"] == ["batch", 64, 64]
    assert manifest[2]["output"]["shape"] == ["batch", 3, 64, 64]


@pytest.mark.parametrize("kind", ["ornet", "mnet"])
def test_metadata_describes_the_model(exported, kind):
    model = torch_model(kind, WEIGHTS[kind])
    for name, precision in ((f"{kind}.onnx", "fp32"), (f"{kind}.fp16.onnx", "fp16")):
        net = onnx_models.read_onnx(exported / name, kind)
        assert (net.kind, net.precision, net.format) == (kind, precision, onnx_models.describe(model)[1])
        assert net.config == json.loads(json.dumps(onnx_models.describe(model)[2]))


@pytest.mark.parametrize("kind", ["ornet", "mnet"])
def test_onnx_equals_torch_at_any_batch(exported, kind):
    model = torch_model(kind, WEIGHTS[kind])
    runtime = _runtime(exported / f"{kind}.onnx")
    x = fixed_batch(kind, onnx_models.describe(model)[3], 17)
    with torch.inference_mode():
        expected = model(x).numpy()
    for batch in (1, 5, 17):  # the batch axis is dynamic
        np.testing.assert_allclose(runtime(x[:batch].numpy()), expected[:batch], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kind", ["ornet", "mnet"])
def test_fp16_equals_fp32_within_tolerance(exported, kind):
    x = fixed_batch(kind, onnx_models.describe(torch_model(kind, WEIGHTS[kind]))[3], 16)
    full = output_view(kind, torch.from_numpy(_runtime(exported / f"{kind}.onnx")(x.numpy())))
    half_runtime = _runtime(exported / f"{kind}.fp16.onnx")
    assert half_runtime.input_dtype == np.float16
    half = output_view(kind, torch.from_numpy(half_runtime(x.numpy())))
    assert np.isfinite(half).all()
    assert np.abs(half - full).max() <= TOLERANCE["fp16"]


def test_order_recovery_takes_the_onnx_file_back(exported):
    on_torch = OrderRecovery(backend="torch")
    on_onnx = OrderRecovery(exported / "ornet.onnx")
    assert on_onnx.backend == "onnxruntime" and on_onnx.model is None and on_onnx.config == on_torch.config
    for seed in range(2):
        modal = generate_scene(seed, height=128, width=128).modal
        a, b = on_torch(modal, amodal=True), on_onnx(modal, amodal=True)
        np.testing.assert_array_equal(a.order, b.order)
        assert (a.amodal != b.amodal).sum() <= 2


def test_fp16_onnx_gives_the_fp32_order(exported):
    on_fp32, on_fp16 = OrderRecovery(exported / "ornet.onnx"), OrderRecovery(exported / "ornet.fp16.onnx")
    for seed in range(3):
        modal = generate_scene(seed, height=128, width=128).modal
        np.testing.assert_array_equal(on_fp16(modal).order, on_fp32(modal).order)


def test_content_completion_takes_the_onnx_file_back(exported):
    scene = generate_scene(3, height=128, width=128)
    hole = scene.modal[0]
    on_torch = ContentCompletion(backend="torch").fill_background(scene.image, hole)
    on_onnx = ContentCompletion(exported / "mnet.onnx")
    assert on_onnx.backend == "onnxruntime" and on_onnx.crop_size == 64
    np.testing.assert_allclose(on_onnx.fill_background(scene.image, hole), on_torch, atol=1)


def test_onnx_weights_are_checked(exported, tmp_path):
    with pytest.raises(ValueError, match="holds a mnet model, expected ornet"):
        OrderRecovery(exported / "mnet.onnx")
    with pytest.raises(ValueError, match="torch needs a .pt checkpoint"):
        OrderRecovery(exported / "ornet.onnx", backend="torch")
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        OrderRecovery(tmp_path / "missing.onnx")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x00not an onnx model")
    with pytest.raises(ValueError, match="not a readable ONNX model"):
        OrderRecovery(corrupt)
    bare = tmp_path / "bare.onnx"
    bare.write_bytes(onnx_models.trace_to_onnx(torch_model("ornet", SHIPPED_WEIGHTS), torch.zeros(1, 2, 64, 64)))
    with pytest.raises(ValueError, match="interorder export"):
        OrderRecovery(bare)


def test_tensorrt_on_without_tensorrt_fails_naming_it(tmp_path, capsys):
    try:
        import tensorrt  # noqa: F401
    except (ImportError, OSError):
        pass
    else:
        pytest.skip("TensorRT is installed here")
    assert main(["export", "-o", str(tmp_path), "--tensorrt", "on"]) == 2
    assert "TensorRT" in capsys.readouterr().err
