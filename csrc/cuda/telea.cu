// Telea fill on the GPU (telea_cuda.hpp): one thread marches the image with the CPU kernel's code
// (core/telea_math.hpp); compiled without fused multiply-adds (CMakeLists.txt) for the same bytes.
#include "../core/telea_math.hpp"
#include "common.cuh"
#include "telea_cuda.hpp"

namespace interorder::cuda {
namespace {

__global__ void telea_kernel(telea::Planes planes, int radius, float* dst) { telea::inpaint(planes, radius, dst); }

}  // namespace

void telea_inpaint(uint8_t* rgb, const uint8_t* unknown, int h, int w, int radius, int device, Stream stream) {
  if (h <= 0 || w <= 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream);
  const size_t n = static_cast<size_t>(h) * w;
  const int r = telea::clamp_radius(radius);
  const size_t window = static_cast<size_t>(2 * r + 1) * (2 * r + 1);
  const size_t heap_bytes = n * sizeof(telea::HeapEntry), float_bytes = (n + window) * sizeof(float);
  char* scratch = nullptr;
  check(cudaMallocAsync(reinterpret_cast<void**>(&scratch), heap_bytes + float_bytes + 2 * n, s), "cudaMallocAsync");
  auto* heap = reinterpret_cast<telea::HeapEntry*>(scratch);
  auto* time = reinterpret_cast<float*>(scratch + heap_bytes);
  auto* flags = reinterpret_cast<uint8_t*>(scratch + heap_bytes + float_bytes);
  const telea::Planes planes{rgb, unknown, h, w, flags, flags + n, time, heap};
  telea_kernel<<<1, 1, 0, s>>>(planes, r, time + n);
  check_launch("telea_kernel");
  check(cudaFreeAsync(scratch, s), "cudaFreeAsync");
}

}  // namespace interorder::cuda
