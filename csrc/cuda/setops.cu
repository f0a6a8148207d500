// Union, intersection and relative complement of packed masks on the GPU.
#include <algorithm>

#include "common.cuh"

namespace interorder::cuda {
namespace {

constexpr int kIndicesPerLaunch = 256;  // 2 KiB of kernel arguments

struct IndexChunk {
  int64_t index[kIndicesPerLaunch];
  int count;
};

// out = op over the chunk's masks, folded into the current out when `accumulate`.
__global__ void combine_kernel(const uint64_t* bits, int64_t plane, IndexChunk chunk, bool is_union,
                               bool accumulate, uint64_t* out) {
  for (int64_t w = grid_start(); w < plane; w += grid_stride()) {
    uint64_t acc = accumulate ? out[w] : bits[chunk.index[0] * plane + w];
    for (int k = accumulate ? 0 : 1; k < chunk.count; ++k) {
      const uint64_t word = bits[chunk.index[k] * plane + w];
      acc = is_union ? (acc | word) : (acc & word);
    }
    out[w] = acc;
  }
}

__global__ void and_not_kernel(uint64_t* out, const uint64_t* other, int64_t plane) {
  for (int64_t w = grid_start(); w < plane; w += grid_stride()) out[w] &= ~other[w];
}

}  // namespace

void combine(const uint64_t* bits, const Dims& d, const int64_t* index, int64_t count, Combine op, uint64_t* out,
             int device, Stream stream) {
  const int64_t plane = d.mask_stride();
  if (plane == 0 || count == 0) return;
  DeviceGuard guard(device);
  for (int64_t start = 0; start < count; start += kIndicesPerLaunch) {
    IndexChunk chunk{};
    chunk.count = static_cast<int>(std::min<int64_t>(kIndicesPerLaunch, count - start));
    std::copy(index + start, index + start + chunk.count, chunk.index);
    combine_kernel<<<blocks_for(plane), kThreads, 0, as_stream(stream)>>>(bits, plane, chunk, op == Combine::kUnion,
                                                                         start > 0, out);
    check_launch("combine_kernel");
  }
}

void and_not(uint64_t* out, const uint64_t* other, const Dims& d, int device, Stream stream) {
  const int64_t plane = d.mask_stride();
  if (plane == 0) return;
  DeviceGuard guard(device);
  and_not_kernel<<<blocks_for(plane), kThreads, 0, as_stream(stream)>>>(out, other, plane);
  check_launch("and_not_kernel");
}

}  // namespace interorder::cuda
