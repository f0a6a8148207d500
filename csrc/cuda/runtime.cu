// Device discovery, versions, allocation and host transfers.
#include "common.cuh"

namespace interorder::cuda {

int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the error so later calls start clean
    return 0;
  }
  return count;
}

int runtime_version() noexcept { return CUDART_VERSION; }

int driver_version() noexcept {
  int version = 0;
  if (cudaDriverGetVersion(&version) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return version;
}

int pointer_device(const void* ptr) {
  cudaPointerAttributes attributes{};
  check(cudaPointerGetAttributes(&attributes, ptr), "cudaPointerGetAttributes");
  if (attributes.type != cudaMemoryTypeDevice && attributes.type != cudaMemoryTypeManaged) {
    throw std::invalid_argument("pointer is not CUDA device memory");
  }
  return attributes.device;
}

void* allocate(size_t bytes, int device) {
  DeviceGuard guard(device);
  void* ptr = nullptr;
  check(cudaMalloc(&ptr, bytes == 0 ? 1 : bytes), "cudaMalloc");
  return ptr;
}

void release(void* ptr) noexcept {
  if (ptr != nullptr) cudaFree(ptr);  // waits for the work that may still use it
}

void copy_to_device(void* dst, const void* host, size_t bytes, int device, Stream stream) {
  if (bytes == 0) return;
  DeviceGuard guard(device);
  check(cudaMemcpyAsync(dst, host, bytes, cudaMemcpyHostToDevice, as_stream(stream)), "cudaMemcpyAsync");
}

void copy_to_host(void* host, const void* src, size_t bytes, int device, Stream stream) {
  if (bytes == 0) return;
  DeviceGuard guard(device);
  check(cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost, as_stream(stream)), "cudaMemcpyAsync");
  check(cudaStreamSynchronize(as_stream(stream)), "cudaStreamSynchronize");
}

}  // namespace interorder::cuda
