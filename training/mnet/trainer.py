"""MNet's two training stages and their state (paper sec. 3.3).

Stage 1 pretrains the encoder E_q by momentum contrast: a query and its positive key are the same
instance under two different random occluders; E_k follows E_q by momentum, keys queue up (MoCo).
Stage 2 trains the decoder G_2 (the encoder fine-tuned at a lower learning rate) with L1 on the
hole, a PatchGAN adversarial term and, only when a feature-net weights file is given, a
perceptual term.
"""

from __future__ import annotations

from dataclasses import asdict

import torch
import torch.nn.functional as F
from torch import nn

from interorder_rt.models.mnet import MNet, MNetConfig
from training import distributed
from training.checkpoint import restore_rng, rng_state
from training.contrastive import KeyQueue, gather_keys, info_nce, make_key_encoder, momentum_update
from training.mnet.config import TrainConfig
from training.mnet.data import Batch, CompletionSampler
from training.mnet.discriminator import PatchDiscriminator, discriminator_input
from training.mnet.perceptual import load_feature_net, perceptual_loss

STATE_FORMAT = "interorder_rt.mnet-train/1"
STATE_KEYS = ("format", "config", "step", "elapsed", "world_size", "net", "key_encoder", "queue", "disc",
              "opt_contrast", "opt_g", "opt_d", "samplers")
HELD_OUT_SEED = 20_221_010  # the fixed validation crops (scenes drawn like, but apart from, training's)
RANK_SEED_STRIDE = 1_000_003


def weighted_l1(fake: torch.Tensor, real: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean absolute RGB error with per-pixel weights (B, 1, S, S); values in [0, 1]."""
    return ((fake - real).abs() * weight).sum() / (3 * weight.sum()).clamp_min(1e-6)


def _bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(real)))


class ContrastiveHead(nn.Module):
    """The encoder's embedding as a ``forward``, so DistributedDataParallel can wrap it."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.embed(x)


class MNetTrainer:
    """Models, optimisers, sampler and step counter of one MNet training process."""

    def __init__(self, config: TrainConfig, context: distributed.Context) -> None:
        self.config, self.context, device = config, context, context.device
        torch.manual_seed(config.seed)  # same initial weights in every process
        self.net = MNet(MNetConfig(config.crop_size, config.widths, config.embed_dim)).to(device)
        self.key_encoder = make_key_encoder(self.net.encoder)
        self.queue = KeyQueue(config.embed_dim, config.queue_size).to(device)
        self.disc = PatchDiscriminator(config.disc_width).to(device)
        self.features = load_feature_net(config.perceptual_weights).to(device) if config.perceptual_weights else None
        sampler_args = dict(crop_size=config.crop_size, height=config.height, width=config.width)
        self.sampler = CompletionSampler(config.seed + RANK_SEED_STRIDE * context.rank, pool_size=config.pool_size,
                                         refresh=config.pool_refresh, **sampler_args)
        self.held_out = _held_out_batches(config.eval_size, sampler_args)
        body = [p for name, p in self.net.encoder.named_parameters() if not name.startswith("project.")]
        self.opt_contrast = torch.optim.Adam(self.net.encoder.parameters(), lr=config.lr)
        self.opt_g = torch.optim.Adam(
            [{"params": body, "lr": config.lr * config.encoder_lr_scale}, {"params": self.net.decoder.parameters()}],
            lr=config.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.disc.parameters(), lr=config.lr, betas=(0.5, 0.999))
        self.step, self.elapsed = 0, 0.0
        self._contrast_model: nn.Module | None = None
        self._gen_model: nn.Module | None = None
        self._disc_model: nn.Module | None = None

    @property
    def total_steps(self) -> int:
        return self.config.contrastive_steps + self.config.steps

    @property
    def stage(self) -> str:
        return "contrastive" if self.step < self.config.contrastive_steps else "generator"

    def _wrap(self, module: nn.Module) -> nn.Module:
        return nn.parallel.DistributedDataParallel(module) if self.context.distributed else module

    def train_step(self) -> dict[str, float]:
        """One optimisation step of the current stage; returns its losses."""
        out = self._contrastive_step() if self.stage == "contrastive" else self._generator_step()
        self.step += 1
        return out

    def _contrastive_step(self) -> dict[str, float]:
        if self._contrast_model is None:
            self._contrast_model = self._wrap(ContrastiveHead(self.net.encoder))
        query_x, key_x = self.sampler.contrastive_batch(self.config.batch_size)
        queries = self._contrast_model(query_x.to(self.context.device))
        with torch.no_grad():
            keys = self.key_encoder.embed(key_x.to(self.context.device))
        loss = info_nce(queries, keys, self.queue.keys, self.config.temperature)
        self.opt_contrast.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_contrast.step()
        momentum_update(self.key_encoder, self.net.encoder, self.config.momentum)
        self.queue.push(gather_keys(keys))
        return {"contrast": loss.item()}

    def _generator_step(self) -> dict[str, float]:
        if self._gen_model is None:
            self._contrast_model = None  # stage 1 is over: its DDP wrapper must not see these params
            for p in self.net.encoder.project.parameters():
                p.requires_grad_(False)
            self._gen_model, self._disc_model = self._wrap(self.net), self._wrap(self.disc)
        batch = self.sampler.batch(self.config.batch_size, self.config.background_share).to(self.context.device)
        prediction = self._gen_model(batch.x)
        fake = MNet.blend(prediction, batch.x)
        real_view = discriminator_input(batch.target, batch.support, batch.hole)
        fake_view = discriminator_input(fake, batch.support, batch.hole)

        real_logits, fake_logits = self._disc_model(torch.cat([real_view, fake_view.detach()])).chunk(2)
        loss_d = _bce(real_logits, True) + _bce(fake_logits, False)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        # Paper eq. 11 reconstructs the whole instance; the hole, where the answer is unknown, weighs more.
        l1 = weighted_l1(prediction, batch.target, batch.support + (self.config.hole_weight - 1.0) * batch.hole)
        adv = _bce(self._disc_model(fake_view), True)
        total = l1 + self.config.adv_weight * adv
        out = {"l1": l1.item(), "adv_g": adv.item(), "adv_d": loss_d.item()}
        if self.features is not None:
            perceptual = perceptual_loss(self.features, fake * batch.support, batch.target * batch.support)
            total = total + self.config.perceptual_weight * perceptual
            out["perceptual"] = perceptual.item()
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g.step()
        return out

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Hole L1 (0-255 scale) of the current net on the fixed held-out crops."""
        out = {}
        for name, batch in self.held_out.items():
            batch = batch.to(self.context.device)
            fake = MNet.blend(self.net(batch.x), batch.x)
            out[f"val_l1_{name}"] = 255.0 * weighted_l1(fake, batch.target, batch.hole).item()
        return out

    def state_dict(self) -> dict:
        """Everything a resumed run needs; collective under DDP (every process must call it)."""
        samplers = distributed.gather_objects(
            {"rng": rng_state(self.sampler.rng), "pool": self.sampler.pool.state_dict()}, self.context)
        return {
            "format": STATE_FORMAT, "config": asdict(self.config), "step": self.step, "elapsed": self.elapsed,
            "world_size": self.context.world_size, "net": self.net.state_dict(),
            "key_encoder": self.key_encoder.state_dict(), "queue": self.queue.state_dict(),
            "disc": self.disc.state_dict(), "opt_contrast": self.opt_contrast.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "samplers": samplers,
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"not an MNet training checkpoint (expected format {STATE_FORMAT!r})")
        self.config.check_resumable(state["config"])
        if state["world_size"] != self.context.world_size:
            raise ValueError(f"the run was saved with {state['world_size']} processes; resume it with as many, "
                             f"not {self.context.world_size}")
        self.step, self.elapsed = int(state["step"]), float(state["elapsed"])
        for name in ("net", "key_encoder", "queue", "disc", "opt_contrast", "opt_g", "opt_d"):
            getattr(self, name).load_state_dict(state[name])
        mine = state["samplers"][self.context.rank]
        restore_rng(mine["rng"], self.sampler.rng)
        self.sampler.pool.load_state_dict(mine["pool"])

    def export(self, **meta) -> dict:
        """The inference checkpoint (MNet weights and config) with ``meta`` about the run."""
        return self.net.checkpoint(**meta)


def _held_out_batches(size: int, sampler_args: dict) -> dict[str, Batch]:
    sampler = CompletionSampler(HELD_OUT_SEED, pool_size=16, refresh=0, **sampler_args)
    return {"instance": sampler.batch(size, 0.0), "background": sampler.batch(size, 1.0)}
