"""Where Engine.run's 16 ms at 720p go on the GPU (torch profiler), and Engine.stream on CUDA frames."""
import itertools, sys, time
import numpy as np, torch
from torch.profiler import ProfilerActivity, profile
from benchmarks.bench_gpu import _six_instance_pair
from benchmarks.bench_engine import scene_at, noisy_frames, moving_frames
from interorder_rt.engine import Engine

pair = _six_instance_pair(720, 1280)
engine = Engine(device="cuda", backend="torch")
src, ref, y = pair.source, pair.reference, pair.reference_index
engine.set_source(src.image, keypoints=src.instances[pair.source_index].keypoints, masks=src.modal, index=pair.source_index)
image, masks = torch.from_numpy(ref.image).cuda(), torch.from_numpy(ref.modal).cuda()
run = lambda: engine.run(image=image, masks=masks, target=y, keypoints=ref.instances[y].keypoints)
for _ in range(10):
    run()
torch.cuda.synchronize()
with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
    for _ in range(20):
        run()
    torch.cuda.synchronize()
table = prof.key_averages()
print(table.table(sort_by="self_cpu_time_total", row_limit=30))
print(table.table(sort_by="self_cuda_time_total", row_limit=15))

def stream(frames, count=30, memory="static"):
    out = []
    for k, result in zip(range(count), engine.stream(frames, memory=memory)):
        out.append(result.timings.as_dict())
    rest = out[3:]
    return {s: round(float(np.median([t[s] for t in rest])), 2) for s in rest[0]}, round(float(np.percentile([t["total"] for t in rest], 99)), 2)

def on_cuda(frames):
    for f in frames:
        yield dict(image=torch.from_numpy(f.image).cuda(), masks=torch.from_numpy(f.masks).cuda(), target=f.target,
                   keypoints=f.keypoints, instance_ids=f.instance_ids)

for size in ((720, 1280), (1080, 1920)):
    frame = scene_at(engine, size)
    print(size, "stream noisy p50 stages, p99:", *stream(on_cuda(noisy_frames(frame))))
    print(size, "stream moving p50 stages, p99:", *stream(on_cuda(moving_frames(frame, size))))
