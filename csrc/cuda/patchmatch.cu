// CUDA twin of the PatchMatch fill (core/patchmatch.cpp): the same per-pixel steps
// (core/patchmatch_math.hpp), one thread per pixel, so the result equals the CPU one bit for bit.
// The pyramid's small control decisions (first valid centre, onion-peel progress) come back to
// the host through one int each.
#include <algorithm>
#include <climits>
#include <utility>
#include <vector>

#include "../core/patchmatch.hpp"
#include "../core/patchmatch_math.hpp"
#include "common.cuh"

namespace interorder::cuda {
namespace {

// Device memory of `count` T, freed on scope exit.
template <typename T>
class Buffer {
 public:
  explicit Buffer(size_t count = 0) : count_(count) {
    if (count_ > 0) check(cudaMalloc(&ptr_, count_ * sizeof(T)), "cudaMalloc");
  }
  ~Buffer() { if (ptr_) cudaFree(ptr_); }
  Buffer(Buffer&& other) noexcept : ptr_(other.ptr_), count_(other.count_) { other.ptr_ = nullptr, other.count_ = 0; }
  Buffer& operator=(Buffer&& other) noexcept { std::swap(ptr_, other.ptr_), std::swap(count_, other.count_); return *this; }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  T* get() const { return ptr_; }

 private:
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

struct DeviceLevel {
  int h, w;
  Buffer<uint8_t> rgb, hole, source, valid, target;
  DeviceLevel(int height, int width)
      : h(height), w(width), rgb(3 * size()), hole(size()), source(size()), valid(size()), target(size()) {}
  size_t size() const { return static_cast<size_t>(h) * static_cast<size_t>(w); }
  pm::Level view() const { return {h, w, rgb.get(), hole.get(), source.get(), valid.get(), target.get()}; }
};

__device__ __forceinline__ int px(int64_t i, int w) { return static_cast<int>(i % w); }
__device__ __forceinline__ int py(int64_t i, int w) { return static_cast<int>(i / w); }

__global__ void prepare_kernel(const uint8_t* hole, const uint8_t* source, pm::Level L) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    L.hole[i] = hole[i] != 0;
    L.source[i] = source[i] != 0 && hole[i] == 0;
  }
}

__global__ void classify_kernel(pm::Level L, int r, int* first) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    pm::classify_pixel(L, r, px(i, L.w), py(i, L.w));
    if (L.valid[i]) atomicMin(first, static_cast<int>(i));
  }
}

__global__ void downsample_kernel(pm::Level fine, pm::Level coarse) {
  const int64_t n = static_cast<int64_t>(coarse.h) * coarse.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) pm::downsample_pixel(fine, coarse, px(i, coarse.w), py(i, coarse.w));
}

__global__ void peel_kernel(pm::Level L, const uint8_t* filled, uint8_t* filled_out, uint8_t* rgb_out, int* changed) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    if (pm::peel_pixel(L, filled, filled_out, rgb_out, px(i, L.w), py(i, L.w))) *changed = 1;
  }
}

// The onion peel's seeds: the source pixels (as the CPU kernel's peel).
__global__ void known_kernel(pm::Level L, uint8_t* filled) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) filled[i] = L.source[i];
}

__global__ void upsample_colours_kernel(pm::Level fine, pm::Level coarse) {
  const int64_t n = static_cast<int64_t>(fine.h) * fine.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    if (!fine.hole[i]) continue;
    const int64_t c = static_cast<int64_t>(py(i, fine.w) / 2) * coarse.w + px(i, fine.w) / 2;
    for (int k = 0; k < 3; ++k) fine.rgb[3 * i + k] = coarse.rgb[3 * c + k];
  }
}

__global__ void start_kernel(pm::Level L, const int32_t* coarse_nnf, int coarse_w, int coarse_h, bool top,
                             int32_t fallback, uint32_t seed, uint32_t tag, int32_t* nnf) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    nnf[i] = -1;
    if (!L.target[i]) continue;
    const int x = px(i, L.w), y = py(i, L.w);
    const int32_t guess = top ? -1 : pm::upsampled_guess(L, coarse_nnf, coarse_w, coarse_h, x, y);
    nnf[i] = pm::start_match(L, guess, fallback, seed, tag, x, y);
  }
}

// The full-size level cut to what the shown hole pixels need (core/patchmatch.cpp, keep_shown):
// first the targets covering one (reading the hole flags), then the hole flags themselves.
__global__ void shown_targets_kernel(pm::Level L, const uint8_t* shown, int r) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    if (L.target[i]) L.target[i] = pm::covers_shown(L, shown, r, px(i, L.w), py(i, L.w));
  }
}

__global__ void shown_holes_kernel(pm::Level L, const uint8_t* shown) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) L.hole[i] = L.hole[i] && shown[i];
}

__global__ void score_kernel(pm::Level L, int r, const int32_t* nnf, uint32_t* weight) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    if (L.target[i]) pm::score_pixel(L, r, nnf, weight, px(i, L.w), py(i, L.w));
  }
}

__global__ void search_kernel(pm::Level L, int r, const int32_t* nnf, int32_t* nnf_out, uint32_t* weight,
                              uint32_t seed, uint32_t step, int jump, int radius) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    if (L.target[i]) pm::search_pixel(L, r, nnf, nnf_out, weight, seed, step, jump, radius, px(i, L.w), py(i, L.w));
  }
}

__global__ void vote_kernel(pm::Level L, int r, const int32_t* nnf, const uint32_t* weight) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    if (L.hole[i]) pm::vote_pixel(L, r, nnf, weight, L.rgb, px(i, L.w), py(i, L.w));
  }
}

__global__ void write_back_kernel(pm::Level L, uint8_t* rgb) {
  const int64_t n = static_cast<int64_t>(L.h) * L.w;
  for (int64_t i = grid_start(); i < n; i += grid_stride()) {
    if (!L.hole[i]) continue;
    for (int k = 0; k < 3; ++k) rgb[3 * i + k] = L.rgb[3 * i + k];
  }
}

int read_int(const Buffer<int>& value, cudaStream_t stream) {
  int host = 0;
  check(cudaMemcpyAsync(&host, value.get(), sizeof(int), cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  return host;
}

void set_int(const Buffer<int>& value, int v, cudaStream_t stream) {
  check(cudaMemcpyAsync(value.get(), &v, sizeof(int), cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");  // `v` lives on this stack frame
}

// First valid centre of `level` after classifying it, or -1.
int32_t classify(DeviceLevel& level, int r, const Buffer<int>& scratch, cudaStream_t stream) {
  set_int(scratch, INT_MAX, stream);
  classify_kernel<<<blocks_for(level.size()), kThreads, 0, stream>>>(level.view(), r, scratch.get());
  check_launch("classify_kernel");
  const int first = read_int(scratch, stream);
  return first == INT_MAX ? -1 : first;
}

void peel(DeviceLevel& level, const Buffer<int>& changed, cudaStream_t stream) {
  const size_t n = level.size();
  Buffer<uint8_t> filled(n), filled_out(n), rgb_out(3 * n);
  known_kernel<<<blocks_for(n), kThreads, 0, stream>>>(level.view(), filled.get());
  check_launch("known_kernel");
  for (bool more = true; more;) {
    set_int(changed, 0, stream);
    peel_kernel<<<blocks_for(n), kThreads, 0, stream>>>(level.view(), filled.get(), filled_out.get(), rgb_out.get(),
                                                        changed.get());
    check_launch("peel_kernel");
    more = read_int(changed, stream) != 0;
    std::swap(filled, filled_out);
    check(cudaMemcpyAsync(level.rgb.get(), rgb_out.get(), 3 * n, cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync");
  }
}

}  // namespace

bool patchmatch_fill(uint8_t* rgb, const uint8_t* hole, const uint8_t* source, int h, int w,
                     const FillOptions& options, int device, Stream stream_handle, const uint8_t* shown) {
  if (h <= 0 || w <= 0) return true;
  DeviceGuard guard(device);
  const cudaStream_t stream = as_stream(stream_handle);
  const int r = options.patch_size / 2;
  Buffer<int> scratch(1);
  std::vector<DeviceLevel> levels;
  levels.emplace_back(h, w);
  const size_t n0 = levels[0].size();
  check(cudaMemcpyAsync(levels[0].rgb.get(), rgb, 3 * n0, cudaMemcpyDeviceToDevice, stream), "cudaMemcpyAsync");
  prepare_kernel<<<blocks_for(n0), kThreads, 0, stream>>>(hole, source, levels[0].view());
  check_launch("prepare_kernel");
  std::vector<int32_t> fallback{classify(levels[0], r, scratch, stream)};
  if (fallback[0] < 0) return false;
  const int wanted = fill_levels(h, w, options);
  while (static_cast<int>(levels.size()) < wanted) {
    const DeviceLevel& fine = levels.back();
    DeviceLevel coarse((fine.h + 1) / 2, (fine.w + 1) / 2);
    downsample_kernel<<<blocks_for(coarse.size()), kThreads, 0, stream>>>(fine.view(), coarse.view());
    check_launch("downsample_kernel");
    const int32_t first = classify(coarse, r, scratch, stream);
    if (first < 0) break;
    levels.push_back(std::move(coarse));
    fallback.push_back(first);
  }

  Buffer<int32_t> coarse_nnf;
  int coarse_w = 0, coarse_h = 0;
  const int top = static_cast<int>(levels.size()) - 1;
  for (int l = top; l >= 0; --l) {
    DeviceLevel& level = levels[l];
    const pm::Level L = level.view();
    const size_t n = level.size();
    const unsigned blocks = blocks_for(n);
    const int rounds = l == 0 && top > 0 ? options.finest_iterations : std::max(1, options.iterations >> (top - l));
    if (l == top) {
      peel(level, scratch, stream);
    } else {
      upsample_colours_kernel<<<blocks, kThreads, 0, stream>>>(L, levels[l + 1].view());
      check_launch("upsample_colours_kernel");
    }
    if (l == 0 && rounds == 0 && shown) {
      shown_targets_kernel<<<blocks, kThreads, 0, stream>>>(L, shown, r);
      check_launch("shown_targets_kernel");
      shown_holes_kernel<<<blocks, kThreads, 0, stream>>>(L, shown);
      check_launch("shown_holes_kernel");
    }
    Buffer<int32_t> nnf(n), nnf_out(n);
    Buffer<uint32_t> weight(n);
    check(cudaMemsetAsync(weight.get(), 0, n * sizeof(uint32_t), stream), "cudaMemsetAsync");
    const uint32_t seed = options.seed, tag = static_cast<uint32_t>(l);
    start_kernel<<<blocks, kThreads, 0, stream>>>(L, coarse_nnf.get(), coarse_w, coarse_h, l == top, fallback[l], seed,
                                                  tag, nnf.get());
    check_launch("start_kernel");
    check(cudaMemcpyAsync(nnf_out.get(), nnf.get(), n * sizeof(int32_t), cudaMemcpyDeviceToDevice, stream),
          "cudaMemcpyAsync");
    const int radius = l == top ? std::max(L.w, L.h) : options.local_radius;
    if (rounds == 0) {
      score_kernel<<<blocks, kThreads, 0, stream>>>(L, r, nnf.get(), weight.get());
      check_launch("score_kernel");
      vote_kernel<<<blocks, kThreads, 0, stream>>>(L, r, nnf.get(), weight.get());
      check_launch("vote_kernel");
    }
    for (int round = 0; round < rounds; ++round) {
      const uint32_t step = tag * 1024u + static_cast<uint32_t>(round);
      search_kernel<<<blocks, kThreads, 0, stream>>>(L, r, nnf.get(), nnf_out.get(), weight.get(), seed, step,
                                                     2 << (round % 3), radius);
      check_launch("search_kernel");
      std::swap(nnf, nnf_out);
      vote_kernel<<<blocks, kThreads, 0, stream>>>(L, r, nnf.get(), weight.get());
      check_launch("vote_kernel");
    }
    coarse_nnf = std::move(nnf);
    coarse_w = L.w, coarse_h = L.h;
  }
  write_back_kernel<<<blocks_for(n0), kThreads, 0, stream>>>(levels[0].view(), rgb);
  check_launch("write_back_kernel");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");  // the level buffers are freed on return
  return true;
}

}  // namespace interorder::cuda
