// Outline on the GPU (outline_cuda.hpp): a thread a row for the row distances, a thread a pixel
// for the rest, one launch per growth round; the arithmetic of core/outline_math.hpp, compiled
// without fused multiply-adds (CMakeLists.txt) for the CPU kernel's pixels.
#include "../core/outline_math.hpp"
#include "common.cuh"
#include "outline_cuda.hpp"

namespace interorder::cuda {
namespace {

using namespace outline;

__global__ void row_distances(OutlineInput in, int cap, int32_t* across) {
  for (int64_t y = grid_start(); y < in.h; y += grid_stride()) {
    const uint8_t* region = in.region + y * in.w;
    int32_t* row = across + y * in.w;
    int64_t last = -cap;
    for (int64_t x = 0; x < in.w; ++x) {
      if (region[x]) last = x;
      row[x] = static_cast<int32_t>(min64(cap, x - last));
    }
    int64_t next = in.w + cap;
    for (int64_t x = in.w - 1; x >= 0; --x) {
      if (region[x]) next = x;
      row[x] = static_cast<int32_t>(min64(row[x], next - x));
    }
  }
}

__global__ void kinds(OutlineInput in, int cap, const int32_t* across, uint8_t* kind) {
  for (int64_t i = grid_start(); i < in.h * in.w; i += grid_stride()) {
    const int64_t y = i / in.w, x = i % in.w;
    int32_t distance = cap;
    for (int64_t dy = -(cap - 1); dy <= cap - 1; ++dy) {
      if (y + dy < 0 || y + dy >= in.h) continue;
      const int32_t offset = static_cast<int32_t>(dy < 0 ? -dy : dy), along = across[(y + dy) * in.w + x];
      distance = min(distance, max(offset, along));
    }
    kind[i] = kind_of(in.background[i] != 0, in.region[i] != 0, distance <= in.reach, distance <= 2 * in.reach,
                      distance <= 3 * in.reach);
  }
}

__global__ void row_sums(OutlineInput in, const uint8_t* kind, int32_t* sums) {
  const int64_t half = window_half(in.reach);
  for (int64_t i = grid_start(); i < in.h * in.w; i += grid_stride()) {
    const int64_t y = i / in.w, x = i % in.w;
    int32_t running[kSums] = {0, 0, 0, 0, 0, 0, 0};
    for (int64_t xx = max64(x - half, 0); xx <= min64(x + half, in.w - 1); ++xx) {
      if (kind[y * in.w + xx] == kRing) add_ring_pixel(in.rgb + 3 * (y * in.w + xx), running);
    }
    for (int s = 0; s < kSums; ++s) sums[i * kSums + s] = running[s];
  }
}

__global__ void first_stage(OutlineInput in, const uint8_t* kind, const int32_t* sums, Stage* stage) {
  const int64_t half = window_half(in.reach);
  for (int64_t i = grid_start(); i < in.h * in.w; i += grid_stride()) {
    Stage value = in.region[i] ? 0 : kNever;
    if (kind[i] == kNear) {
      const int64_t y = i / in.w, x = i % in.w;
      int64_t window[kSums] = {0, 0, 0, 0, 0, 0, 0};
      for (int64_t yy = max64(y - half, 0); yy <= min64(y + half, in.h - 1); ++yy) {
        for (int s = 0; s < kSums; ++s) window[s] += sums[(yy * in.w + x) * kSums + s];
      }
      if (is_foreign(window, in.rgb + 3 * i, in.sigmas, in.levels)) value = kWaiting;
    }
    stage[i] = value;
  }
}

__global__ void grow_round(int64_t h, int64_t w, int32_t round, Stage* stage) {
  for (int64_t i = grid_start(); i < h * w; i += grid_stride()) {
    if (stage[i] == kWaiting && joins(stage, h, w, i % w, i / w, round)) stage[i] = static_cast<Stage>(round);
  }
}

__global__ void joined(int64_t n, const Stage* stage, uint8_t* out) {
  for (int64_t i = grid_start(); i < n; i += grid_stride()) out[i] = stage[i] >= 1 ? 1 : 0;
}

}  // namespace

void foreign_outline(const OutlineInput& in, uint8_t* out, int device, Stream stream) {
  const int64_t n = in.h * in.w;
  if (n <= 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream);
  if (in.reach < 1) {
    check(cudaMemsetAsync(out, 0, static_cast<size_t>(n), s), "cudaMemsetAsync");
    return;
  }
  const size_t int_bytes = static_cast<size_t>(n) * sizeof(int32_t), stage_bytes = static_cast<size_t>(n) * sizeof(Stage);
  char* scratch = nullptr;
  check(cudaMallocAsync(reinterpret_cast<void**>(&scratch), int_bytes * (1 + kSums) + stage_bytes + n, s),
        "cudaMallocAsync");
  auto* across = reinterpret_cast<int32_t*>(scratch);
  auto* sums = reinterpret_cast<int32_t*>(scratch + int_bytes);
  auto* stage = reinterpret_cast<Stage*>(scratch + (1 + kSums) * int_bytes);
  auto* kind = reinterpret_cast<uint8_t*>(scratch + (1 + kSums) * int_bytes + stage_bytes);
  const int cap = distance_cap(in.reach);
  row_distances<<<blocks_for(in.h), kThreads, 0, s>>>(in, cap, across);
  check_launch("outline row_distances");
  kinds<<<blocks_for(n), kThreads, 0, s>>>(in, cap, across, kind);
  check_launch("outline kinds");
  row_sums<<<blocks_for(n), kThreads, 0, s>>>(in, kind, sums);
  check_launch("outline row_sums");
  first_stage<<<blocks_for(n), kThreads, 0, s>>>(in, kind, sums, stage);
  check_launch("outline first_stage");
  for (int32_t round = 1; round <= in.reach; ++round) {
    grow_round<<<blocks_for(n), kThreads, 0, s>>>(in.h, in.w, round, stage);
    check_launch("outline grow_round");
  }
  joined<<<blocks_for(n), kThreads, 0, s>>>(n, stage, out);
  check_launch("outline joined");
  check(cudaFreeAsync(scratch, s), "cudaFreeAsync");
}

}  // namespace interorder::cuda
