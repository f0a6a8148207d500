"""Train ORNet by imitative contrastive learning: ``interorder-train-ornet --out runs/ornet``.

Stage 1 ("contrastive"): E_q learns by InfoNCE (temperature ``--tau``) against a queue of keys
from the momentum encoder E_k (``--momentum``); a positive pair is one target under two random
occluders. Stage 2 ("decoder"): the decoder learns, on top of E_q, to complete the target with
a weighted BCE; E_q is frozen with ``--encoder-lr-scale 0``, else trained at that fraction of the
learning rate (default 1.0: lower fractions measured worse at a CPU-sized budget, see
interorder_rt/weights/ORNET_CARD.md). ``--no-contrastive`` is the ablation: stage 1 is left out
and stage 2 trains encoder and decoder end to end for ``--decoder-steps`` steps (add stage 1's
steps to them for a comparison at equal step count). ``--init`` fine-tunes exported weights.

Runs as one process or under ``torchrun --nproc_per_node=K`` (DistributedDataParallel; gloo on
CPU, nccl on GPU; ``--batch`` is per process). The run folder holds ``config.json``,
``checkpoint.pt`` (atomic; model, key encoder, queue, optimizer, schedule, stage, step and every
process's RNG states), ``log.csv`` and at the end the exported inference weights ``ornet.pt``.
``--resume`` continues the run in ``--out`` from its last checkpoint with its saved config.
The options are checked before anything runs; a loss that stops being finite ends the run with
an error naming the step, keeping the last checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from interorder_rt.io.atomic import atomic_torch_save, atomic_write_bytes
from interorder_rt.models.ornet import ORNet, ORNetConfig, export_checkpoint, load_ornet
from training import distributed
from training.checkpoint import CsvLog, applying, load_checkpoint, restore_rng, rng_state, save_checkpoint
from training.checks import check_losses, check_range
from training.contrastive import KeyQueue, gather_keys, info_nce, make_key_encoder, momentum_update
from training.ornet_data import ImitationSampler, InstancePool, PoolImage, SyntheticStream, cocoa_pool

LOG_FIELDS = ["global_step", "stage", "step", "loss", "lr", "samples_per_s", "elapsed_s"]
# Settings that define the run; --resume takes them from config.json, the rest from the command line.
RUN_SETTINGS = {"out", "resume", "threads", "device", "export"}
CHECKPOINT_KEYS = ("stage_index", "step", "model", "key_encoder", "queue", "optimizer", "scheduler", "rng", "config")
PROG = "interorder-train-ornet"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="run folder (config, checkpoint, log, exported weights)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--export", help="also write the exported inference weights here")
    p.add_argument("--init", help="start from these exported ORNet weights (fine-tuning); the model settings are theirs")
    data = p.add_argument_group("data (modal masks only)")
    source = data.add_mutually_exclusive_group()
    source.add_argument("--cocoa", help="COCOA annotation file instead of synthetic scenes")
    source.add_argument("--masks", help=".npy (N, H, W) bool modal masks of one image, instead of synthetic scenes")
    data.add_argument("--cocoa-images", help="COCOA image folder (RGB models only)")
    data.add_argument("--scenes", type=int, default=256, help="synthetic scenes in the pool")
    data.add_argument("--refresh-every", type=int, default=2, help="steps between two new synthetic scenes (0: never)")
    data.add_argument("--front-probability", type=float, default=0.8)
    model = p.add_argument_group("model")
    model.add_argument("--size", type=int, default=ORNetConfig.size)
    model.add_argument("--widths", type=int, nargs="+", default=list(ORNetConfig.widths))
    model.add_argument("--rgb", action="store_true", help="also feed the RGB crop (occluder blanked)")
    model.add_argument("--embed-dim", type=int, default=ORNetConfig.embed_dim)
    model.add_argument("--enlarge", type=float, default=ORNetConfig.enlarge)
    model.add_argument("--max-aspect", type=float, default=ORNetConfig.max_aspect)
    train = p.add_argument_group("training")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--batch", type=int, default=32, help="targets per step and process")
    train.add_argument("--contrastive-steps", type=int, default=1500)
    train.add_argument("--decoder-steps", type=int, default=6500)
    train.add_argument("--no-contrastive", action="store_true", help="ablation: end to end, no stage 1")
    train.add_argument("--lr", type=float, default=2e-3)
    train.add_argument("--encoder-lr-scale", type=float, default=1.0, help="stage-2 encoder lr factor (0: frozen)")
    train.add_argument("--tau", type=float, default=0.7)
    train.add_argument("--momentum", type=float, default=0.9)
    train.add_argument("--queue", type=int, default=2048)
    train.add_argument("--checkpoint-every", type=int, default=100)
    train.add_argument("--threads", type=int, help="torch intra-op threads per process")
    train.add_argument("--device", choices=distributed.DEVICES, help="default: cuda when available")
    return p.parse_args(argv)


def check_config(config: dict) -> None:
    """Raise ValueError naming the first option out of its range (NaN and infinity included)."""
    for name in ("batch", "queue", "checkpoint_every", "size", "embed_dim"):
        check_range(f"--{name.replace('_', '-')}", config[name], 1)
    for name in ("contrastive_steps", "decoder_steps", "refresh_every", "seed"):
        check_range(f"--{name.replace('_', '-')}", config[name], 0)
    check_range("--scenes", config["scenes"], 2)
    check_range("--lr", config["lr"], 0)
    check_range("--tau", config["tau"], 0, low_open=True)
    check_range("--encoder-lr-scale", config["encoder_lr_scale"], 0)
    check_range("--momentum", config["momentum"], 0, 1, high_open=True)
    check_range("--front-probability", config["front_probability"], 0, 1)
    check_range("--enlarge", config["enlarge"], 1)
    check_range("--max-aspect", config["max_aspect"], 1)
    if config["threads"] is not None:
        check_range("--threads", config["threads"], 1)
    model_config(config)  # the architecture's own checks (levels, divisibility)


def stage_plan(config: dict) -> list[tuple[str, int]]:
    """The (stage name, steps) sequence of a run."""
    if config["no_contrastive"]:
        return [("end_to_end", config["decoder_steps"])]
    return [("contrastive", config["contrastive_steps"]), ("decoder", config["decoder_steps"])]


def model_config(config: dict) -> ORNetConfig:
    return ORNetConfig(
        size=config["size"], widths=tuple(config["widths"]), rgb=config["rgb"],
        embed_dim=config["embed_dim"], enlarge=config["enlarge"], max_aspect=config["max_aspect"],
    )


class QueryEmbedder(nn.Module):
    """E_q as a module whose forward is the contrastive embedding (what DDP wraps in stage 1)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.embed(x)


class Trainer:
    """The state of one run on one process, and the stages that move it."""

    def __init__(self, config: dict, context: distributed.Context, run_dir: Path) -> None:
        self.config, self.context, self.run_dir = config, context, run_dir
        torch.manual_seed(config["seed"])  # every process builds the same initial model and queue
        self.rng = np.random.default_rng([config["seed"], context.rank])
        self.model = ORNet(model_config(config)).to(context.device)
        self.key_encoder = make_key_encoder(self.model.encoder)
        self.queue = KeyQueue(config["embed_dim"], config["queue"]).to(context.device)
        self.stage_index, self.step = 0, 0
        self.resume_state: dict | None = None
        self.stream: SyntheticStream | None = None
        self.log = CsvLog(run_dir / "log.csv", LOG_FIELDS)

    # -- data ----------------------------------------------------------------------------------
    def global_step(self) -> int:
        return sum(steps for _, steps in stage_plan(self.config)[: self.stage_index]) + self.step

    def build_sampler(self) -> ImitationSampler:
        c = self.config
        if c["cocoa"]:
            pool = cocoa_pool(c["cocoa"], c["cocoa_images"], c["rgb"])
        elif c["masks"]:
            pool = InstancePool([PoolImage(np.load(c["masks"]).astype(bool))])
        else:
            self.stream = SyntheticStream(
                c["scenes"], c["refresh_every"], c["seed"], self.context.rank, c["rgb"], step=self.global_step()
            )
            pool = self.stream.pool
        return ImitationSampler(pool, self.model.config, front_probability=c["front_probability"])

    # -- checkpoints ---------------------------------------------------------------------------
    def init_from(self, path: str) -> None:
        """Start from exported weights: the model, and the key encoder as a copy of its encoder."""
        self.model.load_state_dict(load_ornet(path).state_dict())
        self.key_encoder.load_state_dict(self.model.encoder.state_dict())

    def load(self, path: Path) -> None:
        state = load_checkpoint(path, CHECKPOINT_KEYS)
        with applying(path):
            self.model.load_state_dict(state["model"])
            self.key_encoder.load_state_dict(state["key_encoder"])
            self.queue.load_state_dict(state["queue"])
            self.stage_index, self.step = int(state["stage_index"]), int(state["step"])
            same_world = len(state["rng"]) == self.context.world_size
            if same_world:
                restore_rng(state["rng"][self.context.rank], self.rng)
        if not same_world:
            warnings.warn(
                f"checkpoint was written by {len(state['rng'])} process(es), this run has "
                f"{self.context.world_size}: random streams start afresh from the seed"
            )
        self.resume_state = state

    def save(self, optimizer, scheduler) -> None:
        states = distributed.gather_objects(rng_state(self.rng), self.context)
        if self.context.is_main:
            save_checkpoint(
                {
                    "stage_index": self.stage_index,
                    "step": self.step,
                    "model": self.model.state_dict(),
                    "key_encoder": self.key_encoder.state_dict(),
                    "queue": self.queue.state_dict(),
                    "optimizer": optimizer.state_dict() if optimizer is not None else None,
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "rng": states,
                    "config": self.config,
                },
                self.run_dir / "checkpoint.pt",
            )
        distributed.barrier(self.context)

    # -- stages --------------------------------------------------------------------------------
    def run(self) -> None:
        """Run the remaining stages, checkpointing at every stage end."""
        sampler = self.build_sampler()
        plan = stage_plan(self.config)
        while self.stage_index < len(plan):
            name, steps = plan[self.stage_index]
            self.run_stage(name, steps, sampler)
            self.stage_index, self.step = self.stage_index + 1, 0
            self.resume_state = None
            self.save(None, None)

    def optimizer_for(self, name: str) -> tuple[nn.Module, torch.optim.Optimizer]:
        lr = self.config["lr"]
        encoder, decoder = self.model.encoder, self.model.decoder
        if name == "contrastive":
            net: nn.Module = QueryEmbedder(encoder)
            groups = [{"params": list(encoder.parameters()), "lr": lr}]
        else:
            encoder.head.requires_grad_(False)  # the projection head only serves stage 1
            scale = 1.0 if name == "end_to_end" else self.config["encoder_lr_scale"]
            encoder.stages.requires_grad_(scale > 0)
            groups = [{"params": list(decoder.parameters()), "lr": lr}]
            if scale > 0:
                groups.append({"params": list(encoder.stages.parameters()), "lr": lr * scale})
            net = self.model
        if self.context.distributed:
            net = DistributedDataParallel(net)
        return net, torch.optim.Adam(groups)

    def run_stage(self, name: str, steps: int, sampler: ImitationSampler) -> None:
        net, optimizer = self.optimizer_for(name)
        # Cosine decay to 5% of the learning rate over the stage.
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / max(steps, 1)))
        )
        if self.resume_state is not None and self.resume_state["optimizer"] is not None:
            optimizer.load_state_dict(self.resume_state["optimizer"])
            scheduler.load_state_dict(self.resume_state["scheduler"])
        net.train()
        if name == "decoder" and self.config["encoder_lr_scale"] == 0:
            self.model.encoder.eval()  # a frozen encoder keeps its batch-norm statistics too
        device, batch = self.context.device, self.config["batch"]
        bar = tqdm(total=steps, initial=self.step, desc=name, disable=not self.context.is_main, dynamic_ncols=True)
        started = time.perf_counter()
        while self.step < steps:
            tick = time.perf_counter()
            if self.stream is not None:
                self.stream.advance(self.global_step())
            if name == "contrastive":
                loss, keys = self.contrastive_loss(net, sampler, batch, device)
            else:
                loss, keys = self.completion_loss(net, sampler, batch, device), None
            check_losses({f"{name} loss": loss.item()}, self.global_step() + 1, self.context)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            if keys is not None:
                self.queue.push(gather_keys(keys))
            self.step += 1
            rate = batch * self.context.world_size / (time.perf_counter() - tick)
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}", samples_per_s=f"{rate:.0f}")
            if self.context.is_main:
                self.log.append(
                    {
                        "global_step": self.global_step(), "stage": name, "step": self.step,
                        "loss": f"{loss.item():.6f}", "lr": f"{scheduler.get_last_lr()[0]:.3g}",
                        "samples_per_s": f"{rate:.1f}", "elapsed_s": f"{time.perf_counter() - started:.1f}",
                    }
                )
            if self.step % self.config["checkpoint_every"] == 0:
                self.save(optimizer, scheduler)
        bar.close()

    def contrastive_loss(
        self, net: nn.Module, sampler: ImitationSampler, batch: int, device
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """InfoNCE of E_q's queries against E_k's keys (E_k moved by momentum first) and the queue."""
        query_view, key_view = sampler.batch(self.rng, batch, views=2)
        queries = net(query_view["input"].to(device))
        with torch.no_grad():
            momentum_update(self.key_encoder, self.model.encoder, self.config["momentum"])
            keys = self.key_encoder.embed(key_view["input"].to(device))
        return info_nce(queries, keys, self.queue.keys.clone(), self.config["tau"]), keys

    def completion_loss(self, net: nn.Module, sampler: ImitationSampler, batch: int, device) -> torch.Tensor:
        """Weighted BCE of the completed mask against the un-erased target."""
        (view,) = sampler.batch(self.rng, batch, views=1)
        logits = net(view["input"].to(device))
        return F.binary_cross_entropy_with_logits(logits, view["label"].to(device), weight=view["weight"].to(device))

    def export(self, extra: str | None) -> None:
        """Write the small inference checkpoint into the run folder (and to ``extra``)."""
        payload = export_checkpoint(self.model.cpu())
        for path in filter(None, [self.run_dir / "ornet.pt", extra]):
            atomic_torch_save(payload, path)


def resolve_config(args: argparse.Namespace, run_dir: Path) -> dict:
    """The run's settings: saved ones on --resume (with this call's run settings), else the arguments."""
    given = vars(args)
    if not args.resume:
        if args.init:  # the model settings are those of the weights being fine-tuned
            given.update(load_ornet(args.init).config.to_dict())
        return given
    saved_path = run_dir / "config.json"
    if not saved_path.is_file():
        raise FileNotFoundError(f"--resume: no config.json in {run_dir}")
    try:
        saved = json.loads(saved_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"--resume: {saved_path} is not valid JSON ({exc})") from None
    if not isinstance(saved, dict):
        raise ValueError(f"--resume: {saved_path} holds no JSON object of settings")
    missing = sorted(set(given) - set(saved))
    if missing:
        raise ValueError(f"--resume: {saved_path} lacks the settings {', '.join(missing)}")
    saved.update({k: given[k] for k in RUN_SETTINGS})
    return saved


def main(argv: list[str] | None = None) -> int:
    """Run (or resume) a training; a bad option, file or loss ends it with one line and exit code 2."""
    try:
        return train(parse_args(argv))
    except (ValueError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


def train(args: argparse.Namespace) -> int:
    """The run ``args`` describe, in this process (one of several under torchrun)."""
    run_dir = Path(args.out)
    config = resolve_config(args, run_dir)
    check_config(config)
    context = distributed.init(config["device"])
    try:
        if config["threads"]:
            torch.set_num_threads(config["threads"])
        if not args.resume and (run_dir / "checkpoint.pt").exists():
            raise ValueError(f"{run_dir} already holds a run: pass --resume or another --out")
        trainer = Trainer(config, context, run_dir)
        if args.resume:
            trainer.load(run_dir / "checkpoint.pt")
        elif config.get("init"):
            trainer.init_from(config["init"])
        if context.is_main:
            if not args.resume:
                atomic_write_bytes(run_dir / "config.json", json.dumps(config, indent=2).encode())
            trainer.log.rewind(trainer.global_step())
        distributed.barrier(context)
        trainer.run()
        if context.is_main:
            trainer.export(config["export"])
        distributed.barrier(context)
        return 0
    finally:
        distributed.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
