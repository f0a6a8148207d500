// Helpers shared by the CUDA kernels: error checks, device selection, launch sizes, reductions.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "ops_cuda.hpp"

namespace interorder::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
  }
}

// Checks that the last launch was accepted (bad configuration, no kernel image for the GPU...).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

inline cudaStream_t as_stream(Stream s) { return static_cast<cudaStream_t>(s); }

// Makes `device` current for the scope and restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

constexpr int kThreads = 256;                // threads per block; a multiple of the warp size
constexpr int64_t kMaxBlocks = int64_t{1} << 20;  // grid-stride loops cover the rest

// Blocks for `total` items, one per thread, capped (kernels loop with a grid stride).
inline unsigned blocks_for(int64_t total) {
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

inline unsigned capped_blocks(int64_t count) {
  return static_cast<unsigned>(count < 1 ? 1 : (count > kMaxBlocks ? kMaxBlocks : count));
}

constexpr unsigned kFullWarp = 0xFFFFFFFFu;

__device__ __forceinline__ int64_t grid_start() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return b < a ? b : a; }
__device__ __forceinline__ int64_t max64(int64_t a, int64_t b) { return a < b ? b : a; }

// Block-wide reductions for blocks of kThreads threads; every thread gets the result.
// `scratch` holds kThreads / 32 values and is reused after a barrier.
template <typename T, typename Op>
__device__ T block_reduce(T value, T* scratch, Op op) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int offset = 16; offset > 0; offset >>= 1) value = op(value, __shfl_down_sync(kFullWarp, value, offset));
  if (lane == 0) scratch[warp] = value;
  __syncthreads();
  T total = scratch[0];
  for (int k = 1; k < kThreads / 32; ++k) total = op(total, scratch[k]);
  __syncthreads();
  return total;
}

struct Sum {
  template <typename T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct Min {
  template <typename T>
  __device__ T operator()(T a, T b) const { return b < a ? b : a; }
};
struct Max {
  template <typename T>
  __device__ T operator()(T a, T b) const { return a < b ? b : a; }
};

}  // namespace interorder::cuda
