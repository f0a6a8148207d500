#!/usr/bin/env bash
# The GPU check, in one command that ends within 8 minutes:
#   1. build interorder_rt._C with its CUDA kernels (INTERORDER_CUDA=ON), in place;
#   2. run the CUDA tests, every test file that names CUDA: each kernel against its CPU twin
#      (tests/test_ops_cuda.py, test_patchmatch_cuda.py, test_raster.py, ...), the torch
#      CUDA-graph and TensorRT backends and device frames (tests/test_backends_cuda.py), the
#      Engine's device path, its stream and a CuPy frame without a host copy
#      (tests/test_device_path_cuda.py);
#   3. run the GPU benchmarks (benchmarks/bench_gpu.py): Engine.run at 720p / 1080p and the ORNet
#      stage, on the GPU and on the CPU in the same run;
#   4. write gpu_check.log, cuda_tests.xml, bench_gpu.json and figures.json to the output folder;
#   5. profile a stream of moving people on the GPU (profile_moving.txt);
#   6. with the time left, the whole test suite (all_tests.xml).
# Without a GPU the GPU steps skip with a message and the CPU figures are still written.
#
# Usage: benchmarks/gpu_check.sh [OUT_DIR]      (default: $OUT when set, else ./gpu_check_out)
# Environment: PYTHON (default: python3), GPU_CHECK_BUILD=auto|always|never (auto: build only
# when a GPU is usable; the build needs nvcc and CMake).
set -uo pipefail
cd "$(dirname "$0")/.."

out="${1:-${OUT:-gpu_check_out}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
exec > >(tee "$out/gpu_check.log") 2>&1
python="${PYTHON:-python3}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
started=$(date +%s)
status=0

step() { echo; echo "== $* ($(( $(date +%s) - started )) s)"; }
# Seconds a step may take: its own limit, or what is left of the 470 s the whole check may use.
budget() { local left=$(( 470 - ($(date +%s) - started) )); [ "$left" -lt "$1" ] && echo $(( left > 1 ? left : 1 )) || echo "$1"; }

step "machine"
gpu=$("$python" -c "import torch; print(int(torch.cuda.is_available()))" 2>/dev/null || echo 0)
if [ "$gpu" = 1 ]; then
  "$python" -c "import torch; p = torch.cuda.get_device_properties(0); print(f'GPU: {p.name}, sm_{p.major}{p.minor}, torch {torch.__version__}, CUDA {torch.version.cuda}')"
else
  echo "no usable CUDA GPU for torch here: the GPU steps below skip"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

step "1. build interorder_rt._C with CUDA"
build="${GPU_CHECK_BUILD:-auto}"
if [ "$build" = always ] || { [ "$build" = auto ] && [ "$gpu" = 1 ]; }; then
  if ! command -v nvcc >/dev/null && [ -z "${CUDACXX:-}" ]; then
    echo "FAILED: no nvcc on the PATH (nor CUDACXX): cannot build the CUDA kernels"; status=1
  elif ! INTERORDER_CUDA=ON timeout "$(budget 240)" "$python" setup.py build_ext --inplace > "$out/build.log" 2>&1; then
    echo "FAILED: the CUDA build failed or ran out of time; its last lines:"; tail -20 "$out/build.log"; status=1
  else
    echo "built (log: build.log)"
  fi
else
  echo "skipped (GPU_CHECK_BUILD=$build, GPU usable: $gpu): using the extension as it is built"
fi
"$python" -c "import json, interorder_rt; print(json.dumps(interorder_rt.build_info(), indent=1))" > "$out/build_info.json"
cat "$out/build_info.json"

step "2. CUDA tests (skipped without a GPU)"
cuda_tests=$(grep -l -i "cuda" tests/test_*.py)  # every file with a test that needs a GPU
timeout "$(budget 120)" "$python" -m pytest -q -rs $cuda_tests --junitxml="$out/cuda_tests.xml" \
  -p no:cacheprovider || status=1

step "3. GPU benchmarks, with the CPU path in the same run"
timeout "$(budget 200)" "$python" -m pytest -q benchmarks/bench_gpu.py -p no:cacheprovider --benchmark-json="$out/bench_gpu.json" \
  --benchmark-columns=min,median,max,rounds || status=1

step "4. figures"
timeout "$(budget 20)" "$python" benchmarks/bench_gpu_figures.py "$out" || status=1

step "5. where a stream of moving people spends its GPU time (torch's profiler)"
if [ "$gpu" = 1 ]; then
  timeout "$(budget 60)" "$python" -m benchmarks.profile_engine --device cuda --profiler torch --route stream-moving \
    --size 720p --frames 6 --top 20 > "$out/profile_moving.txt" 2>&1 || status=1
  echo "wrote profile_moving.txt"
else
  echo "skipped: no usable CUDA GPU"
fi

step "6. the whole test suite, as a user with a GPU runs it (what is left of the time)"
timeout "$(budget 200)" "$python" -m pytest -q -p no:cacheprovider --junitxml="$out/all_tests.xml" || status=1

step "done, status $status, log in $out/gpu_check.log"
exit "$status"
