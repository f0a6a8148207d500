// Nearest-neighbour crops of packed masks and growth counts on the GPU.
#include "../core/crop_math.hpp"
#include "common.cuh"

namespace interorder::cuda {
namespace {

__global__ void crop_kernel(const uint64_t* bits, Dims d, const int64_t* index, const double* crop_boxes,
                            int64_t count, int64_t size, uint8_t* out) {
  const int64_t total = count * size * size;
  for (int64_t p = grid_start(); p < total; p += grid_stride()) {
    const int64_t b = p / (size * size), v = (p / size) % size, u = p % size;
    const double* box = crop_boxes + 4 * b;
    const int64_t x = crop_source(box[0], (box[2] - box[0]) / static_cast<double>(size), u, d.w);
    const int64_t y = crop_source(box[1], (box[3] - box[1]) / static_cast<double>(size), v, d.h);
    uint8_t value = 0;
    if (x >= 0 && y >= 0) value = static_cast<uint8_t>((bits[(index[b] * d.h + y) * d.words + (x >> 6)] >> (x & 63)) & 1);
    out[p] = value;
  }
}

// One block per item: |amodal & ~target & partner| over its h x w pixels.
__global__ void growth_kernel(ByteStack amodal, ByteStack target, ByteStack partner, int64_t batch, int64_t h,
                              int64_t w, int64_t* out) {
  __shared__ int64_t scratch[kThreads / 32];
  for (int64_t b = blockIdx.x; b < batch; b += gridDim.x) {
    int64_t total = 0;
    for (int64_t p = threadIdx.x; p < h * w; p += blockDim.x) {
      const int64_t y = p / w, x = p % w;
      const bool a = amodal.data[b * amodal.stride_n + y * amodal.stride_h + x * amodal.stride_w] != 0;
      const bool t = target.data[b * target.stride_n + y * target.stride_h + x * target.stride_w] != 0;
      const bool q = partner.data[b * partner.stride_n + y * partner.stride_h + x * partner.stride_w] != 0;
      total += (a && !t && q) ? 1 : 0;
    }
    total = block_reduce(total, scratch, Sum());
    if (threadIdx.x == 0) out[b] = total;
  }
}

}  // namespace

void crop_resize(const uint64_t* bits, const Dims& d, const int64_t* index, const double* crop_boxes, int64_t count,
                 int64_t size, uint8_t* out, int device, Stream stream) {
  const int64_t total = count * size * size;
  if (total == 0) return;
  DeviceGuard guard(device);
  crop_kernel<<<blocks_for(total), kThreads, 0, as_stream(stream)>>>(bits, d, index, crop_boxes, count, size, out);
  check_launch("crop_kernel");
}

void growth_counts(const ByteStack& amodal, const ByteStack& target, const ByteStack& partner, int64_t batch,
                   int64_t h, int64_t w, int64_t* out, int device, Stream stream) {
  if (batch == 0) return;
  DeviceGuard guard(device);
  growth_kernel<<<capped_blocks(batch), kThreads, 0, as_stream(stream)>>>(amodal, target, partner, batch, h, w, out);
  check_launch("growth_kernel");
}

}  // namespace interorder::cuda
