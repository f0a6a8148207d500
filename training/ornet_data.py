"""ORNet training data: modal masks, random occluders, and the crops the net learns from.

Imitative learning (DESIGN.md): a target's modal mask M_t gets another instance's modal mask
M_r as an occluder. In front (probability ``front_probability``), M_t is erased under M_r and
the net must complete it; behind, M_r loses the pixels of M_t and the input equals the target.
The crop is the inference crop (``target_crop_boxes`` around the visible target), slightly
jittered.
Only modal masks (and optionally the image) enter: no amodal or order labels.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from pycocotools import mask as mask_utils

from interorder_rt.models.ornet import ORNetConfig, build_input
from interorder_rt.ops.reference import crop_resize
from interorder_rt.order_recovery import crop_image, target_crop_boxes
from training.occlusion import mask_box, place_occluder

OCCLUDED_WEIGHT = 5.0  # loss weight of the pixels under the occluder, where the answer is hidden
SYNTHETIC_SALT = 20_717  # keeps training scenes apart from evaluation seeds


class RleMasks:
    """An image's (N, H, W) modal masks kept as COCO RLE and decoded when drawn, so that a pool of
    a whole COCOA split stays small in memory."""

    def __init__(self, masks: np.ndarray) -> None:
        self.shape = masks.shape
        self._rles = mask_utils.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))

    def __len__(self) -> int:
        return len(self._rles)

    def __getitem__(self, k: int) -> np.ndarray:
        with warnings.catch_warnings():
            # pycocotools' decoder trips NumPy 2's __array__ copy-keyword deprecation; harmless.
            warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
            return mask_utils.decode(self._rles[k]).astype(bool)

    def areas(self) -> np.ndarray:
        return mask_utils.area(self._rles).astype(np.int64)


@dataclass
class PoolImage:
    """One image's instances: (N, H, W) bool modal masks (an array or ``RleMasks``) and, for RGB
    models, the (H, W, 3) image."""

    modal: np.ndarray | RleMasks
    image: np.ndarray | None = None

    def areas(self) -> np.ndarray:
        if isinstance(self.modal, RleMasks):
            return self.modal.areas()
        return self.modal.reshape(len(self.modal), -1).sum(axis=1)


class InstancePool:
    """Images whose modal masks serve as targets and occluders; slots can be replaced."""

    def __init__(self, images: list[PoolImage], min_area: int = 16) -> None:
        self.images = list(images)
        self.min_area = min_area
        self._index()

    def _index(self) -> None:
        self._instances = [
            (s, k) for s, entry in enumerate(self.images) for k, area in enumerate(entry.areas()) if area >= self.min_area
        ]
        if len(self._instances) < 2:
            raise ValueError(f"the pool needs >= 2 instances of >= {self.min_area} pixels, has {len(self._instances)}")

    def replace(self, slot: int, image: PoolImage) -> None:
        self.images[slot] = image
        self._index()

    def __len__(self) -> int:
        return len(self._instances)

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
        """A random instance: its (H, W) modal mask and its image."""
        slot, k = self._instances[int(rng.integers(len(self._instances)))]
        return self.images[slot].modal[k], self.images[slot].image


def synthetic_image(seed: int, rank: int, index: int, with_image: bool) -> PoolImage:
    """Modal masks (and image) of synthetic scene ``index`` of process ``rank``'s stream."""
    from interorder_rt.synth import generate_scene

    scene = generate_scene(np.random.default_rng([SYNTHETIC_SALT, seed, rank, index]))
    return PoolImage(scene.modal, scene.image if with_image else None)


class SyntheticStream:
    """A pool of ``size`` synthetic scenes where one scene is replaced every ``refresh_every`` steps.

    The pool's content is a function of (seed, rank, step), so a resumed run rebuilds it exactly.
    """

    def __init__(self, size: int, refresh_every: int, seed: int, rank: int, with_image: bool, step: int = 0) -> None:
        self.size, self.refresh_every = size, refresh_every
        self.seed, self.rank, self.with_image = seed, rank, with_image
        self.generated = self._count(step)
        first = self.generated - size
        ordered = sorted(range(first, self.generated), key=lambda k: k % size)
        self.pool = InstancePool([synthetic_image(seed, rank, k, with_image) for k in ordered])

    def _count(self, step: int) -> int:
        return self.size + (step // self.refresh_every if self.refresh_every > 0 else 0)

    def advance(self, step: int) -> None:
        """Bring the pool to its content at ``step``."""
        while self.generated < self._count(step):
            k = self.generated
            self.pool.replace(k % self.size, synthetic_image(self.seed, self.rank, k, self.with_image))
            self.generated += 1


def cocoa_pool(path: str, images_dir: str | None, with_image: bool) -> InstancePool:
    """Every COCOA image's modal masks (the amodal masks and orders in the file are not used)."""
    from interorder_rt.io.cocoa import load_cocoa, read_cocoa_image

    if with_image and images_dir is None:
        raise ValueError("an RGB ORNet trained on COCOA needs the image folder (--cocoa-images)")
    images = []
    for record in load_cocoa(path):
        if record.n:
            image = read_cocoa_image(record, images_dir) if with_image else None
            images.append(PoolImage(RleMasks(record.modal), image))
    return InstancePool(images)


def fit_to_canvas(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``mask`` on a canvas of ``shape``: as is when the shapes agree, else its box patch (shrunk
    to fit when larger) at the canvas's top-left corner (``place_occluder`` moves it anyway)."""
    if mask.shape == shape:
        return mask
    x0, y0, x1, y1 = mask_box(mask)
    patch = mask[y0:y1, x0:x1].astype(np.uint8)
    factor = min(1.0, shape[0] / patch.shape[0], shape[1] / patch.shape[1])
    if factor < 1.0:
        size = (max(1, int(patch.shape[1] * factor)), max(1, int(patch.shape[0] * factor)))
        patch = cv2.resize(patch, size, interpolation=cv2.INTER_NEAREST)
    out = np.zeros(shape, dtype=bool)
    out[: patch.shape[0], : patch.shape[1]] = patch > 0
    return out


@dataclass
class View:
    """One training example in crop space (S x S): the net's input parts, target and loss weight."""

    target: np.ndarray  # visible target, uint8
    occluder: np.ndarray  # uint8
    rgb: np.ndarray | None  # (S, S, 3) uint8, or None
    label: np.ndarray  # the un-erased target, float32 0 / 1
    weight: np.ndarray  # float32


class ImitationSampler:
    """Draws targets and occluders from a pool and turns them into ``View`` s and batches."""

    def __init__(
        self,
        pool: InstancePool,
        config: ORNetConfig,
        *,
        front_probability: float = 0.8,
        enlarge_jitter: float = 0.15,
        centre_jitter: float = 0.05,
        tries: int = 20,
    ) -> None:
        self.pool, self.config = pool, config
        self.front_probability = front_probability
        self.enlarge_jitter, self.centre_jitter = enlarge_jitter, centre_jitter
        self.tries = tries

    def view(
        self, rng: np.random.Generator, target: np.ndarray, image: np.ndarray | None, flip: bool = False
    ) -> View | None:
        """``target`` under a fresh random occluder (in front or behind), cropped like inference,
        mirrored left-right with ``flip``.

        None when no drawn occluder could be placed over the target.
        """
        for _ in range(self.tries):
            placed = place_occluder(target, fit_to_canvas(self.pool.sample(rng)[0], target.shape), rng)
            if placed is not None:
                break
        else:
            return None
        occluder = placed[0]
        if rng.random() < self.front_probability:
            visible = target & ~occluder
        else:
            visible, occluder = target, occluder & ~target
        box = self._crop_box(rng, np.array(mask_box(visible)))
        size = self.config.size
        crops = crop_resize(np.stack([visible, occluder, target]), [0, 1, 2], box[None].repeat(3, 0), size)
        rgb = crop_image(image, box[None], size)[0] if self.config.rgb else None
        if flip:
            crops = crops[:, :, ::-1]
            rgb = rgb[:, ::-1] if rgb is not None else None
        weight = 1.0 + (OCCLUDED_WEIGHT - 1.0) * crops[1].astype(np.float32)
        return View(crops[0], crops[1], rgb, crops[2].astype(np.float32), weight)

    def _crop_box(self, rng: np.random.Generator, visible_box: np.ndarray) -> np.ndarray:
        enlarge = self.config.enlarge * float(np.exp(rng.uniform(-self.enlarge_jitter, self.enlarge_jitter)))
        box = target_crop_boxes(visible_box, enlarge, self.config.max_aspect)[0]
        shift = rng.uniform(-self.centre_jitter, self.centre_jitter, size=2) * (box[2:] - box[:2])
        return box + np.tile(shift, 2)

    def batch(self, rng: np.random.Generator, batch_size: int, views: int) -> list[dict[str, torch.Tensor]]:
        """``views`` batches over the same ``batch_size`` targets, each target under different occluders.

        A target's views share one random mirroring, so they differ by their occluders (and the
        crop that follows the visible part). Each batch holds ``input`` (B, C, S, S), ``label`` (B, S, S) and ``weight`` (B, S, S).
        """
        targets: list[list[View]] = []
        while len(targets) < batch_size:
            mask, image = self.pool.sample(rng)
            flip = bool(rng.random() < 0.5)
            drawn = [self.view(rng, mask, image, flip) for _ in range(views)]
            if all(v is not None for v in drawn):
                targets.append(drawn)
        out = []
        for v in range(views):
            items = [t[v] for t in targets]
            rgb = np.stack([it.rgb for it in items]) if self.config.rgb else None
            out.append(
                {
                    "input": build_input(
                        np.stack([it.target for it in items]), np.stack([it.occluder for it in items]), rgb
                    ),
                    "label": torch.from_numpy(np.stack([it.label for it in items])),
                    "weight": torch.from_numpy(np.stack([it.weight for it in items])),
                }
            )
        return out
