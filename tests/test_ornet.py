"""ORNet model and ``OrderRecovery``: shapes, export, crops, bad input, and the shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interorder_rt.backends import onnx_runtime
from interorder_rt.io.atomic import atomic_torch_save
from interorder_rt.models.ornet import ORNet, ORNetConfig, build_input, export_checkpoint, fuse_batchnorm, load_ornet
from interorder_rt.ops import MaskSet, order_from_growth
from interorder_rt.order_recovery import SHIPPED_WEIGHTS, OrderRecovery, crop_image, paste_crop, target_crop_boxes
from interorder_rt.synth import generate_scene

TINY = ORNetConfig(size=32, widths=(8, 16), embed_dim=8)


def _trained_like(config: ORNetConfig, seed: int = 0) -> ORNet:
    """A random model with non-trivial batch-norm statistics (eval mode)."""
    torch.manual_seed(seed)
    model = ORNet(config).train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(4, config.in_channels, config.size, config.size))
    return model.eval()


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "tiny.pt"
    atomic_torch_save(export_checkpoint(_trained_like(TINY)), path)
    return path


@pytest.fixture(scope="module")
def shipped():
    return OrderRecovery()


# -- model ---------------------------------------------------------------------------------------


def test_forward_shapes_embedding_and_size_budget():
    model = ORNet()
    x = torch.rand(3, 2, 64, 64)
    assert model(x).shape == (3, 64, 64)
    z = model.encoder.embed(x)
    assert z.shape == (3, model.config.embed_dim)
    torch.testing.assert_close(z.norm(dim=1), torch.ones(3))
    assert sum(p.numel() for p in model.parameters()) <= 1_000_000


@pytest.mark.parametrize(
    "kwargs, match",
    [({"size": 60}, "divisible"), ({"widths": (8,)}, "levels"), ({"enlarge": 0.5}, "enlarge"),
     ({"max_aspect": 0.5}, "max_aspect"), ({"enlarge": float("nan")}, "enlarge"),
     ({"max_aspect": float("inf")}, "max_aspect")],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ORNetConfig(**kwargs)


def test_fused_model_matches_and_runs_in_onnx_runtime():
    if not onnx_runtime.available():
        pytest.skip("onnx / onnxruntime not installed")
    model = _trained_like(TINY)
    fused = fuse_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    x = (torch.rand(5, 2, 32, 32) > 0.5).float()
    with torch.no_grad():
        expected = model(x)
        torch.testing.assert_close(fused(x), expected, atol=1e-4, rtol=1e-4)
    runtime = onnx_runtime.OnnxRuntimeModel(fused, x[:1], threads=1)
    for batch in (3, 5):  # the batch dimension is dynamic
        np.testing.assert_allclose(runtime(x[:batch].numpy()), expected[:batch].numpy(), atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="threads"):
        onnx_runtime.OnnxRuntimeModel(fused, x[:1], threads=0)


def test_build_input_layout_and_rgb_blanking():
    target = np.zeros((1, 4, 4), np.uint8)
    occluder = np.zeros((1, 4, 4), np.uint8)
    target[0, 0] = 1
    occluder[0, 3] = 1
    rgb = np.full((1, 4, 4, 3), 255, np.uint8)
    x = build_input(target, occluder, rgb)
    assert x.shape == (1, 5, 4, 4) and x.dtype == torch.float32
    assert x[0, 0, 0].eq(1).all() and x[0, 1, 3].eq(1).all()
    assert x[0, 2:, 3].eq(0).all() and x[0, 2:, :3].eq(1).all()
    with pytest.raises(ValueError, match="same-shape"):
        build_input(target, occluder[:, :3])


def test_load_rejects_missing_corrupt_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        load_ornet(tmp_path / "nowhere.pt")
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        OrderRecovery(tmp_path / "nowhere.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt.pt"):
        OrderRecovery(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(ValueError, match="not an ORNet checkpoint"):
        load_ornet(foreign)
    broken = export_checkpoint(ORNet(TINY))
    broken["state_dict"].pop("decoder.out.weight")
    torch.save(broken, tmp_path / "broken.pt")
    with pytest.raises(ValueError, match="inconsistent"):
        load_ornet(tmp_path / "broken.pt")


# -- crops ---------------------------------------------------------------------------------------


def test_crop_boxes_are_centred_with_bounded_aspect():
    boxes = target_crop_boxes(np.array([[10, 20, 30, 60], [5, 5, 6, 6]]), 2.0)
    np.testing.assert_allclose(boxes[0], [-20, 0, 60, 80])  # max_aspect 1: a square
    np.testing.assert_allclose(boxes[1], [4.5, 4.5, 6.5, 6.5])
    thin = np.array([[0, 0, 10, 100], [0, 0, 30, 60]])
    np.testing.assert_allclose(target_crop_boxes(thin, 1.0, max_aspect=4.0), [[-7.5, 0, 17.5, 100], [0, 0, 30, 60]])


def test_crop_image_samples_like_mask_crops():
    rng = np.random.default_rng(0)
    masks = rng.random((2, 30, 40)) > 0.5
    image = np.repeat(masks[0, :, :, None].astype(np.uint8) * 255, 3, axis=2)
    boxes = np.array([[-5.0, 3.0, 25.0, 33.0], [10.0, -2.0, 50.0, 38.0]])
    expected = MaskSet(masks).crops([0, 0], boxes, 16)
    np.testing.assert_array_equal(crop_image(image, boxes, 16)[..., 1], expected * 255)


def test_paste_crop_inverts_the_crop():
    mask = np.zeros((60, 80), bool)
    mask[10:50, 20:45] = True
    box = target_crop_boxes(np.array([[20, 10, 45, 50]]), 1.5, max_aspect=4.0)[0]
    crop = MaskSet(mask[None]).crops([0], box[None], 64)[0].astype(np.float32)
    back = paste_crop(crop, box, 60, 80, 0.5)
    assert (back & mask).sum() / (back | mask).sum() > 0.97


# -- order recovery ------------------------------------------------------------------------------


def test_small_inputs_give_an_empty_order(tiny_weights):
    recovery = OrderRecovery(tiny_weights)
    for n in (0, 1):
        masks = np.ones((n, 8, 8), bool)
        result = recovery(masks, amodal=True)
        assert result.order.shape == (n, n) and result.growth.shape == (n, n)
        np.testing.assert_array_equal(result.layering, np.arange(n))
        assert result.amodal.shape == (n, 8, 8)


def test_edge_cases_run(tiny_weights):
    recovery = OrderRecovery(tiny_weights)
    masks = np.zeros((4, 20, 24), bool)
    masks[0, :, :6] = True  # touches three image borders
    masks[1, 5, 6] = True  # a single pixel beside it
    masks[2, :, 7:] = True  # covers most of the image
    masks[3] = True  # the whole image
    result = recovery(MaskSet(masks), amodal=True)
    assert result.order.shape == (4, 4) and result.order.dtype == np.int8
    np.testing.assert_array_equal(result.order, -result.order.T)
    assert sorted(result.layering.tolist()) == [0, 1, 2, 3]
    assert (result.amodal >= masks).all()


def test_bad_masks_are_rejected(tiny_weights):
    recovery = OrderRecovery(tiny_weights)
    with pytest.raises(ValueError, match="shape"):
        recovery(np.zeros((8, 8), bool))
    with pytest.raises(ValueError, match="threshold"):
        OrderRecovery(tiny_weights, threshold=1.0)


def test_completion_sees_the_union_of_occluders(tiny_weights):
    recovery = OrderRecovery(tiny_weights)
    masks = np.zeros((3, 24, 24), bool)
    masks[0, 4:20, 4:20] = True
    masks[1, :, :6] = True
    masks[2, :6, :] = True
    maskset = MaskSet(masks)
    boxes = recovery._crop_boxes(maskset, np.array([0, 0]))
    _, targets, occluders = recovery._forward(maskset, None, np.array([0, 0]), [[1, 2], [2]], boxes)
    size = recovery.config.size
    union = maskset.crops([1], boxes[:1], size)[0].astype(bool) | maskset.crops([2], boxes[:1], size)[0].astype(bool)
    np.testing.assert_array_equal(occluders[0], union)
    np.testing.assert_array_equal(occluders[1], maskset.crops([2], boxes[1:], size)[0].astype(bool))
    np.testing.assert_array_equal(targets[0], maskset.crops([0], boxes[:1], size)[0].astype(bool))


def test_amodal_masks_reuse_the_order_pass_for_a_single_occluder(shipped):
    recovery = shipped
    for seed in range(8):
        scene = generate_scene(seed, height=128, width=128)
        maskset = MaskSet(scene.modal)
        result, pairs = recovery._order(maskset, None)
        single = [i for i in range(maskset.n) if (result.order[i] == -1).sum() == 1]
        reused = recovery._amodal_masks(maskset, None, result.order, pairs=pairs)
        np.testing.assert_array_equal(reused, recovery._amodal_masks(maskset, None, result.order))  # net again for all
        np.testing.assert_array_equal(recovery(maskset, amodal=True).amodal, reused)
        if single:
            return
    pytest.fail("no scene had an instance with a single occluder")


def test_rgb_model_needs_a_matching_image(tmp_path):
    path = tmp_path / "rgb.pt"
    atomic_torch_save(export_checkpoint(_trained_like(ORNetConfig(size=32, widths=(8, 16), rgb=True))), path)
    recovery = OrderRecovery(path)
    masks = np.zeros((2, 16, 16), bool)
    masks[0, :, :8] = masks[1, :, 8:] = True
    with pytest.raises(ValueError, match="RGB"):
        recovery(masks)
    with pytest.raises(ValueError, match="uint8"):
        recovery(masks, np.zeros((16, 16, 3), np.float32))
    assert recovery(masks, np.zeros((16, 16, 3), np.uint8)).order.shape == (2, 2)


def test_thread_setting_is_restored(tiny_weights):
    before = torch.get_num_threads()
    masks = np.zeros((2, 16, 16), bool)
    masks[0, :, :8] = masks[1, :, 8:] = True
    OrderRecovery(tiny_weights, backend="torch", threads=1)(masks)
    assert torch.get_num_threads() == before


def test_backends_give_the_same_order_and_amodal_masks(tiny_weights):
    if not onnx_runtime.available():
        pytest.skip("onnx / onnxruntime not installed")
    on_torch = OrderRecovery(tiny_weights, backend="torch")
    on_runtime = OrderRecovery(tiny_weights, backend="onnxruntime")
    assert (on_torch.backend, on_runtime.backend, OrderRecovery(tiny_weights).backend) == ("torch", "onnxruntime",
                                                                                          "onnxruntime")
    for seed in range(3):
        modal = generate_scene(seed, height=96, width=96).modal
        a, b = on_torch(modal, amodal=True), on_runtime(modal, amodal=True)
        np.testing.assert_array_equal(a.order, b.order)
        assert (a.amodal != b.amodal).sum() <= 2  # float rounding may move a pixel on the threshold


def test_backend_choice_is_checked(tiny_weights):
    with pytest.raises(ValueError, match="backend must be one of"):
        OrderRecovery(tiny_weights, backend="tvm")
    with pytest.raises(ValueError, match="runs on the CPU"):
        OrderRecovery(tiny_weights, device="cuda", backend="onnxruntime")


def test_shipped_weights_are_small_and_load(shipped):
    assert SHIPPED_WEIGHTS.stat().st_size < 4_000_000
    assert sum(p.numel() for p in shipped.model.parameters()) <= 1_000_000


def _convex_order(modal: np.ndarray) -> np.ndarray:
    maskset = MaskSet(modal)
    grown = (maskset.convex_hulls() & ~modal).reshape(len(modal), -1).astype(np.float32)
    growth = grown @ modal.reshape(len(modal), -1).T.astype(np.float32)
    return order_from_growth(growth * maskset.bordering_matrix())


def test_shipped_weights_beat_convex_on_synthetic_scenes(shipped):
    correct = {"ornet": 0, "convex": 0}
    total = 0
    iou = []
    for seed in range(1000, 1012):
        scene = generate_scene(seed)
        occluded = np.triu(scene.order != 0, 1)
        result = shipped(scene.modal, scene.image, amodal=True)
        correct["ornet"] += int((result.order[occluded] == scene.order[occluded]).sum())
        correct["convex"] += int((_convex_order(scene.modal)[occluded] == scene.order[occluded]).sum())
        total += int(occluded.sum())
        iou.append((result.amodal & scene.amodal).sum() / (result.amodal | scene.amodal).sum())
    assert total >= 30
    assert correct["ornet"] >= correct["convex"] + 0.05 * total, (correct, total)
    assert correct["ornet"] >= 0.85 * total, (correct, total)
    assert np.mean(iou) > 0.8
