// CUDA mask kernels: the same ops and results as core/ops.hpp, on raw device pointers, launched
// on the caller's stream. Plain C++ header (no CUDA types) so the bindings build without the
// CUDA headers. Every pointer lives on `device`; every call returns once its work is queued,
// except the copies to the host, which wait for the stream.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/bits.hpp"
#include "../core/ops.hpp"
#include "../core/patchmatch.hpp"

namespace interorder::cuda {

using Stream = void*;  // a cudaStream_t, e.g. torch.cuda.current_stream().cuda_stream

// ---- runtime ----
int device_count() noexcept;     // usable GPUs; 0 when there is no GPU or driver, never throws
int runtime_version() noexcept;  // CUDA runtime compiled in, e.g. 13000
int driver_version() noexcept;   // CUDA version the driver supports, 0 without a driver
int pointer_device(const void* ptr);  // device owning a device or managed pointer
void* allocate(size_t bytes, int device);
void release(void* ptr) noexcept;
void copy_to_device(void* dst, const void* host, size_t bytes, int device, Stream stream);
void copy_to_host(void* host, const void* src, size_t bytes, int device, Stream stream);  // waits

// ---- kernels (semantics in core/ops.hpp) ----
void pack(const ByteStack& src, const Dims& d, uint64_t* bits, int64_t* areas, int32_t* boxes, int device,
          Stream stream);
void unpack(const uint64_t* bits, int64_t planes, const Dims& d, uint8_t* out, int device, Stream stream);
// `index` is a host array; the indices travel in the kernel arguments.
void combine(const uint64_t* bits, const Dims& d, const int64_t* index, int64_t count, Combine op, uint64_t* out,
             int device, Stream stream);
void and_not(uint64_t* out, const uint64_t* other, const Dims& d, int device, Stream stream);
void intersection_matrix(const uint64_t* bits, const Dims& d, const int32_t* boxes, const int64_t* areas,
                         int64_t* out, int device, Stream stream);
void bordering_matrix(const uint64_t* bits, const Dims& d, const int32_t* boxes, uint8_t* out, int device,
                      Stream stream);
void convex_hulls(const uint64_t* bits, const Dims& d, const int32_t* boxes, uint8_t* out, int device,
                  Stream stream);
// `index` (count) and `crop_boxes` (count * 4) are device arrays.
void crop_resize(const uint64_t* bits, const Dims& d, const int64_t* index, const double* crop_boxes, int64_t count,
                 int64_t size, uint8_t* out, int device, Stream stream);
void growth_counts(const ByteStack& amodal, const ByteStack& target, const ByteStack& partner, int64_t batch,
                   int64_t h, int64_t w, int64_t* out, int device, Stream stream);
// In place on the (h, w, 3) device image `rgb`; `hole`, `source` and `shown` (null: every hole
// pixel) are (h, w) device planes, as in core/patchmatch.hpp. Waits for the stream (the pyramid
// is freed on return); false when no patch lies in the source.
bool patchmatch_fill(uint8_t* rgb, const uint8_t* hole, const uint8_t* source, int h, int w,
                     const FillOptions& options, int device, Stream stream, const uint8_t* shown = nullptr);

}  // namespace interorder::cuda
