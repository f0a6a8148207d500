"""``interorder-train-mnet`` (or ``python -m training.mnet``): run (or resume) an MNet training, log it,
checkpoint it, export it. A loss that stops being finite ends the run naming the step."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from interorder_rt.io.atomic import atomic_torch_save
from training import distributed
from training.checkpoint import CsvLog, applying, load_checkpoint, save_checkpoint
from training.checks import check_losses
from training.mnet.config import TrainConfig, parse_config
from training.mnet.trainer import STATE_KEYS, MNetTrainer

LOG_FIELDS = ["step", "stage", "elapsed_s", "contrast", "l1", "adv_g", "adv_d", "perceptual",
              "val_l1_instance", "val_l1_background"]
PERCEPTUAL_OFF = "off"  # what the log's perceptual column holds when no feature-net weights were given


def perceptual_status(config: TrainConfig) -> str:
    if config.perceptual_weights:
        return f"perceptual loss: ON (feature net {config.perceptual_weights}, weight {config.perceptual_weight})"
    return ("perceptual loss: OFF (no --perceptual-weights file given; the term is left out, "
            f"the log's perceptual column reads {PERCEPTUAL_OFF!r})")


def train(config: TrainConfig) -> MNetTrainer:
    """Train to ``config.contrastive_steps + config.steps`` (or until ``max_minutes``); return the trainer."""
    context = distributed.init(config.device)
    if config.threads:
        torch.set_num_threads(config.threads)
    out = Path(config.out)
    checkpoint = out / "last.pt"
    if not config.resume and checkpoint.exists():
        raise ValueError(f"{out} already holds a run; pass --resume to continue it or choose another --out")
    trainer = MNetTrainer(config, context)
    log = CsvLog(out / "log.csv", LOG_FIELDS)
    if config.resume:
        state = load_checkpoint(checkpoint, STATE_KEYS)
        with applying(checkpoint):
            trainer.load_state_dict(state)
    if context.is_main:
        log.rewind(trainer.step, key="step")  # a fresh run starts a fresh log
        config.save()
        tqdm.write(perceptual_status(config))
    _loop(trainer, log, checkpoint)
    distributed.shutdown()
    return trainer


def _loop(trainer: MNetTrainer, log: CsvLog, checkpoint: Path) -> None:
    config, main = trainer.config, trainer.context.is_main
    start = time.monotonic() - trainer.elapsed
    deadline = None if config.max_minutes is None else time.monotonic() + 60.0 * config.max_minutes
    bar = tqdm(total=trainer.total_steps, initial=trainer.step, desc="mnet", disable=not main, dynamic_ncols=True)
    while trainer.step < trainer.total_steps:
        stage = trainer.stage
        losses = trainer.train_step()
        check_losses(losses, trainer.step, trainer.context)
        trainer.elapsed = time.monotonic() - start
        bar.update(1)
        bar.set_postfix(stage=stage, **{k: f"{v:.4f}" for k, v in losses.items()})
        stage_step = trainer.step - (0 if stage == "contrastive" else config.contrastive_steps)
        done = trainer.step == trainer.total_steps
        evaluate = stage == "generator" and (stage_step % config.eval_every == 0 or done)
        if main and (evaluate or stage_step % config.log_every == 0 or done):
            row = {"step": trainer.step, "stage": stage, "elapsed_s": f"{trainer.elapsed:.1f}", **losses}
            if stage == "generator" and trainer.features is None:
                row["perceptual"] = PERCEPTUAL_OFF
            if evaluate:
                row.update(trainer.evaluate())
                bar.write(f"step {trainer.step}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items() if k.startswith("val")))
            log.append({k: f"{v:.5f}" if isinstance(v, float) else v for k, v in row.items()})
        out_of_time = distributed.any_process(deadline is not None and time.monotonic() > deadline, trainer.context)
        stage_over = trainer.step == config.contrastive_steps
        if done or out_of_time or stage_over or trainer.step % config.ckpt_every == 0:
            state = trainer.state_dict()
            if main:
                save_checkpoint(state, checkpoint)
        if out_of_time and not done:
            bar.write(f"time limit of {config.max_minutes} min reached at step {trainer.step}; "
                      f"continue with the same command plus --resume")
            break
    bar.close()
    if main and trainer.step == trainer.total_steps:
        _export(trainer)


def _export(trainer: MNetTrainer) -> None:
    config = trainer.config
    meta = {"train_config": json.loads(config.to_json()), "steps": trainer.step,
            "train_seconds": round(trainer.elapsed, 1), "held_out": trainer.evaluate()}
    weights = trainer.export(**meta)
    for path in filter(None, (Path(config.out) / "mnet.pt", config.export)):
        atomic_torch_save(weights, path)
        tqdm.write(f"wrote MNet weights to {path}")


def main(argv: list[str] | None = None) -> int:
    try:
        train(parse_config(argv))
    except (ValueError, OSError) as exc:
        print(f"interorder-train-mnet: error: {exc}", file=sys.stderr)
        return 2
    return 0
