"""MNet training options: one dataclass, its command line, and its JSON file beside the checkpoint."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from interorder_rt.io.atomic import atomic_write_bytes
from training.checks import check_range
from training.distributed import check_device

# Options a resumed run may change; any other difference from the saved run is an error.
RESUMABLE = {"out", "resume", "contrastive_steps", "steps", "log_every", "eval_every", "ckpt_every",
             "max_minutes", "threads", "device", "export"}


@dataclass
class TrainConfig:
    out: str = "runs/mnet"
    seed: int = 0
    crop_size: int = 64
    widths: tuple[int, int, int, int] = (16, 32, 64, 128)
    embed_dim: int = 64
    height: int = 256
    width: int = 256
    pool_size: int = 48
    pool_refresh: int = 2
    batch_size: int = 16
    contrastive_steps: int = 300
    steps: int = 2000
    lr: float = 1e-3
    encoder_lr_scale: float = 0.1
    queue_size: int = 1024
    temperature: float = 0.7
    momentum: float = 0.9
    background_share: float = 0.5
    hole_weight: float = 5.0
    adv_weight: float = 0.01
    perceptual_weight: float = 1.0
    perceptual_weights: str | None = None
    disc_width: int = 32
    log_every: int = 10
    eval_every: int = 100
    eval_size: int = 64
    ckpt_every: int = 100
    max_minutes: float | None = None
    threads: int | None = None
    device: str | None = None
    export: str | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        self.widths = tuple(int(w) for w in self.widths)
        counts = ["batch_size", "steps", "log_every", "eval_every", "eval_size", "ckpt_every", "queue_size",
                  "crop_size", "embed_dim", "height", "width", "disc_width"]
        for name in counts + (["threads"] if self.threads is not None else []):
            check_range(name, getattr(self, name), 1)
        for name in ("contrastive_steps", "seed", "pool_refresh", "encoder_lr_scale", "hole_weight", "adv_weight",
                     "perceptual_weight"):
            check_range(name, getattr(self, name), 0)
        check_range("pool_size", self.pool_size, 2)
        check_range("lr", self.lr, 0)
        check_range("temperature", self.temperature, 0, low_open=True)
        check_range("momentum", self.momentum, 0, 1, high_open=True)
        check_range("background_share", self.background_share, 0, 1)
        if self.max_minutes is not None:
            check_range("max_minutes", self.max_minutes, 0, low_open=True)
        if self.device is not None:
            check_device(self.device)
        if len(self.widths) != 4 or min(self.widths) < 1:
            raise ValueError(f"widths must be 4 positive channel counts, got {self.widths}")

    @property
    def config_path(self) -> Path:
        return Path(self.out) / "config.json"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    def save(self) -> None:
        atomic_write_bytes(self.config_path, (self.to_json() + "\n").encode())

    def check_resumable(self, saved: dict) -> None:
        """Raise ValueError naming every option that differs from the saved run's and may not."""
        mine, saved = json.loads(self.to_json()), json.loads(json.dumps(saved))
        changed = sorted(k for k in mine if k not in RESUMABLE and mine[k] != saved.get(k))
        if changed:
            diffs = ", ".join(f"{k}: saved {saved.get(k)!r} vs now {mine[k]!r}" for k in changed)
            raise ValueError(f"--resume with options that differ from the saved run ({diffs})")


_TYPES = {"int": int, "float": float, "str": str}
_HELP = {
    "out": "run folder: last.pt, config.json, log.csv",
    "contrastive_steps": "stage 1 (MoCo encoder pretraining) steps; 0 = the 'w/o con' ablation",
    "steps": "stage 2 (decoder + GAN) steps",
    "encoder_lr_scale": "stage 2 encoder learning rate as a share of --lr (1.0 for 'w/o con')",
    "hole_weight": "L1 weight of hole pixels relative to known ones",
    "background_share": "share of stage 2 samples that are background holes",
    "perceptual_weights": "FeatureNet state dict for the perceptual loss; without it the term is off",
    "max_minutes": "save and stop after this many minutes (continue with --resume)",
    "threads": "torch CPU threads (default: torch's choice)",
    "device": "cpu or cuda (default: cuda when available)",
    "export": "also write the inference weights (MNet checkpoint) here at the end",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interorder-train-mnet",
        description="Train MNet (content completion) on synthetic scenes: contrastive encoder "
        "pretraining (MoCo), then decoder + PatchGAN (+ perceptual when weights are given).",
    )
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        text = f"{_HELP.get(f.name, '')} (default: {default})".strip()
        if f.name == "resume":
            parser.add_argument(flag, action="store_true", help=_HELP.get(f.name, "continue the run in --out"))
        elif f.name == "widths":
            parser.add_argument(flag, type=int, nargs=4, default=list(default), help="channels at 1, 1/2, 1/4, 1/8 scale")
        else:
            parser.add_argument(flag, type=_TYPES[str(f.type).split("|")[0].strip()], default=default, help=text)
    return parser


def parse_config(argv: list[str] | None = None) -> TrainConfig:
    return TrainConfig(**vars(build_parser().parse_args(argv)))
