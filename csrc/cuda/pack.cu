// Packing byte masks into bits on the GPU, per-mask areas and boxes, and unpacking.
#include "common.cuh"

namespace interorder::cuda {
namespace {

// One thread per pixel slot of the padded rows (n * h * 64 * words slots, a multiple of 32, so
// each warp covers 32 aligned pixels of one row); a ballot packs them into half a word.
__global__ void pack_kernel(ByteStack src, Dims d, uint32_t* halves) {
  const int64_t slots_per_row = d.words * 64;
  const int64_t total = d.n * d.h * slots_per_row;
  for (int64_t s = grid_start(); s < total; s += grid_stride()) {
    const int64_t row = s / slots_per_row, x = s % slots_per_row;
    const int64_t i = row / d.h, y = row % d.h;
    bool set = false;
    if (x < d.w) set = src.data[i * src.stride_n + y * src.stride_h + x * src.stride_w] != 0;
    const uint32_t ballot = __ballot_sync(kFullWarp, set);
    if ((threadIdx.x & 31) == 0) halves[s >> 5] = ballot;  // little-endian: low half first
  }
}

// One block per mask: area and tight box from the packed rows.
__global__ void stats_kernel(const uint64_t* bits, Dims d, int64_t* areas, int32_t* boxes) {
  __shared__ int64_t scratch[kThreads / 32];
  const int64_t plane = d.h * d.words;
  for (int64_t i = blockIdx.x; i < d.n; i += gridDim.x) {
    const uint64_t* mask = bits + i * plane;
    int64_t area = 0, x0 = d.w, y0 = d.h, x1 = -1, y1 = -1;
    for (int64_t k = threadIdx.x; k < plane; k += blockDim.x) {
      const uint64_t word = mask[k];
      if (word == 0) continue;
      const int64_t y = k / d.words, x = (k % d.words) * 64;
      area += __popcll(word);
      x0 = min64(x0, x + __ffsll(static_cast<long long>(word)) - 1);
      x1 = max64(x1, x + 63 - __clzll(static_cast<long long>(word)));
      y0 = min64(y0, y);
      y1 = max64(y1, y);
    }
    area = block_reduce(area, scratch, Sum());
    x0 = block_reduce(x0, scratch, Min());
    y0 = block_reduce(y0, scratch, Min());
    x1 = block_reduce(x1, scratch, Max());
    y1 = block_reduce(y1, scratch, Max());
    if (threadIdx.x == 0) {
      areas[i] = area;
      int32_t* box = boxes + 4 * i;
      const bool empty = area == 0;
      box[0] = empty ? 0 : static_cast<int32_t>(x0);
      box[1] = empty ? 0 : static_cast<int32_t>(y0);
      box[2] = empty ? 0 : static_cast<int32_t>(x1 + 1);
      box[3] = empty ? 0 : static_cast<int32_t>(y1 + 1);
    }
  }
}

__global__ void unpack_kernel(const uint64_t* bits, int64_t planes, Dims d, uint8_t* out) {
  const int64_t total = planes * d.h * d.w;
  for (int64_t p = grid_start(); p < total; p += grid_stride()) {
    const int64_t row = p / d.w, x = p % d.w;
    out[p] = static_cast<uint8_t>((bits[row * d.words + (x >> 6)] >> (x & 63)) & 1);
  }
}

}  // namespace

void pack(const ByteStack& src, const Dims& d, uint64_t* bits, int64_t* areas, int32_t* boxes, int device,
          Stream stream) {
  if (d.n == 0) return;
  DeviceGuard guard(device);
  const int64_t slots = d.n * d.h * d.words * 64;
  if (slots > 0) {
    pack_kernel<<<blocks_for(slots), kThreads, 0, as_stream(stream)>>>(src, d, reinterpret_cast<uint32_t*>(bits));
    check_launch("pack_kernel");
  }
  stats_kernel<<<capped_blocks(d.n), kThreads, 0, as_stream(stream)>>>(bits, d, areas, boxes);
  check_launch("stats_kernel");
}

void unpack(const uint64_t* bits, int64_t planes, const Dims& d, uint8_t* out, int device, Stream stream) {
  const int64_t total = planes * d.h * d.w;
  if (total == 0) return;
  DeviceGuard guard(device);
  unpack_kernel<<<blocks_for(total), kThreads, 0, as_stream(stream)>>>(bits, planes, d, out);
  check_launch("unpack_kernel");
}

}  // namespace interorder::cuda
