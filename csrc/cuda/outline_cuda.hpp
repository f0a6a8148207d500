// CUDA twin of the outline kernel (core/outline.hpp): the same pixels, on device pointers,
// queued on the caller's stream. Plain C++ header, like ops_cuda.hpp.
#pragma once

#include "../core/outline.hpp"
#include "ops_cuda.hpp"

namespace interorder::cuda {

// Every plane of `in` and `out` lives on `device`.
void foreign_outline(const OutlineInput& in, uint8_t* out, int device, Stream stream);

}  // namespace interorder::cuda
