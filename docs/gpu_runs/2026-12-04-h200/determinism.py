"""Two straight tiny MNet trainings on the GPU: bit for bit equal or not, and how far apart."""
import sys, tempfile
import torch
from training.mnet.config import TrainConfig
from training.mnet.run import train

TINY = dict(crop_size=32, widths=(8, 8, 16, 16), embed_dim=16, height=96, width=96, pool_size=4,
            pool_refresh=1, batch_size=4, queue_size=32, eval_size=8, disc_width=8, threads=1,
            log_every=1, eval_every=2, ckpt_every=2, contrastive_steps=3, steps=3)
with tempfile.TemporaryDirectory() as tmp:
    runs = [train(TrainConfig(**TINY, out=f"{tmp}/{k}", device="cuda")).net.state_dict() for k in "ab"]
a, b = runs
equal = all(torch.equal(a[k], b[k]) for k in a)
worst = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
print(f"two straight GPU runs: bitwise equal {equal}, largest weight difference {worst:.3g}")
