"""Engine.stream on CUDA frames of the moving benchmark scene at 720p: where a frame's 340 ms go."""
import cProfile, io, pstats
import torch
from torch.profiler import ProfilerActivity, profile
from benchmarks.bench_engine import scene_at, moving_frames
from interorder_rt.engine import Engine

size = (720, 1280)
engine = Engine(device="cuda", backend="torch")
frame = scene_at(engine, size)

def on_cuda(frames):
    for f in frames:
        yield dict(image=torch.from_numpy(f.image).cuda(), masks=torch.from_numpy(f.masks).cuda(), target=f.target,
                   keypoints=f.keypoints, instance_ids=f.instance_ids)

it = engine.stream(on_cuda(moving_frames(frame, size)))
for k in range(8):
    r = next(it)
    print(k, {s: round(v, 1) for s, v in r.timings.as_dict().items()})
torch.cuda.synchronize()
with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
    for _ in range(3):
        next(it)
    torch.cuda.synchronize()
table = prof.key_averages()
print(table.table(sort_by="self_cuda_time_total", row_limit=20, max_name_column_width=90))
print(table.table(sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=90))
p = cProfile.Profile()
p.enable()
for _ in range(3):
    next(it)
torch.cuda.synchronize()
p.disable()
text = io.StringIO()
pstats.Stats(p, stream=text).sort_stats("cumtime").print_stats(45)
print(text.getvalue())
text = io.StringIO()
pstats.Stats(p, stream=text).sort_stats("tottime").print_stats(20)
print(text.getvalue())
