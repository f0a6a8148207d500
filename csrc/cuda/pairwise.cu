// N x N pair matrices on the GPU: one block per ordered pair (i, j) with i <= j; pairs whose
// boxes cannot meet are settled from the boxes alone.
#include "common.cuh"

namespace interorder::cuda {
namespace {

struct Region {
  int64_t x0, y0, x1, y1;
  __device__ bool empty() const { return x0 >= x1 || y0 >= y1; }
};

// Where the box of j meets the box of i, grown by `grow` pixels (clipped to the frame).
__device__ Region meeting(const int32_t* boxes, int64_t i, int64_t j, int grow, const Dims& d) {
  const int32_t* a = boxes + 4 * i;
  const int32_t* b = boxes + 4 * j;
  if (a[2] <= a[0] || b[2] <= b[0]) return {0, 0, 0, 0};  // an empty mask meets nothing
  const int64_t x0 = max64(a[0] - grow, 0), y0 = max64(a[1] - grow, 0);
  const int64_t x1 = min64(a[2] + grow, d.w), y1 = min64(a[3] + grow, d.h);
  return {max64(x0, b[0]), max64(y0, b[1]), min64(x1, b[2]), min64(y1, b[3])};
}

__global__ void intersection_kernel(const uint64_t* bits, Dims d, const int32_t* boxes, const int64_t* areas,
                                    int64_t* out) {
  __shared__ int64_t scratch[kThreads / 32];
  const int64_t plane = d.h * d.words;
  for (int64_t p = blockIdx.x; p < d.n * d.n; p += gridDim.x) {
    const int64_t i = p / d.n, j = p % d.n;
    if (j < i) continue;  // block-uniform: the (i, j) block writes both halves
    if (i == j) {
      if (threadIdx.x == 0) out[p] = areas[i];
      continue;
    }
    const Region r = meeting(boxes, i, j, 0, d);
    int64_t count = 0;
    if (!r.empty()) {
      const int64_t k0 = r.x0 >> 6, span = ((r.x1 - 1) >> 6) - k0 + 1;
      const uint64_t* a = bits + i * plane;
      const uint64_t* b = bits + j * plane;
      for (int64_t t = threadIdx.x; t < (r.y1 - r.y0) * span; t += blockDim.x) {
        const int64_t w = (r.y0 + t / span) * d.words + k0 + t % span;
        count += __popcll(a[w] & b[w]);
      }
    }
    count = block_reduce(count, scratch, Sum());
    if (threadIdx.x == 0) {
      out[i * d.n + j] = count;
      out[j * d.n + i] = count;
    }
  }
}

// Word k of row y of mask m dilated by a 3x3 cross.
__device__ uint64_t dilated_word(const uint64_t* m, const Dims& d, int64_t y, int64_t k) {
  const uint64_t* row = m + y * d.words;
  const uint64_t w = row[k];
  uint64_t out = w | (w << 1) | (w >> 1);
  if (k > 0) out |= row[k - 1] >> 63;
  if (k + 1 < d.words) out |= row[k + 1] << 63;
  if (y > 0) out |= row[k - d.words];
  if (y + 1 < d.h) out |= row[k + d.words];
  return out;
}

__global__ void bordering_kernel(const uint64_t* bits, Dims d, const int32_t* boxes, uint8_t* out) {
  const int64_t plane = d.h * d.words;
  for (int64_t p = blockIdx.x; p < d.n * d.n; p += gridDim.x) {
    const int64_t i = p / d.n, j = p % d.n;
    if (j < i) continue;
    const Region r = i == j ? Region{0, 0, 0, 0} : meeting(boxes, i, j, 1, d);
    int found = 0;
    if (!r.empty()) {
      const int64_t k0 = r.x0 >> 6, span = ((r.x1 - 1) >> 6) - k0 + 1, total = (r.y1 - r.y0) * span;
      const uint64_t* a = bits + i * plane;
      const uint64_t* b = bits + j * plane;
      // Whole-block steps so that every thread agrees when to stop at the first contact.
      for (int64_t base = 0; base < total && !found; base += blockDim.x) {
        const int64_t t = base + threadIdx.x;
        bool hit = false;
        if (t < total) {
          const int64_t y = r.y0 + t / span, k = k0 + t % span;
          hit = (b[y * d.words + k] & dilated_word(a, d, y, k)) != 0;
        }
        found = __syncthreads_or(hit);
      }
    }
    if (threadIdx.x == 0) {
      out[i * d.n + j] = static_cast<uint8_t>(found ? 1 : 0);
      out[j * d.n + i] = static_cast<uint8_t>(found ? 1 : 0);
    }
  }
}

}  // namespace

void intersection_matrix(const uint64_t* bits, const Dims& d, const int32_t* boxes, const int64_t* areas,
                         int64_t* out, int device, Stream stream) {
  if (d.n == 0) return;
  DeviceGuard guard(device);
  intersection_kernel<<<capped_blocks(d.n * d.n), kThreads, 0, as_stream(stream)>>>(bits, d, boxes, areas, out);
  check_launch("intersection_kernel");
}

void bordering_matrix(const uint64_t* bits, const Dims& d, const int32_t* boxes, uint8_t* out, int device,
                      Stream stream) {
  if (d.n == 0) return;
  DeviceGuard guard(device);
  bordering_kernel<<<capped_blocks(d.n * d.n), kThreads, 0, as_stream(stream)>>>(bits, d, boxes, out);
  check_launch("bordering_kernel");
}

}  // namespace interorder::cuda
