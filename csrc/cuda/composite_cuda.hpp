// CUDA twin of the compositing kernel (core/composite.hpp): the same bytes, on device pointers,
// queued on the caller's stream. Plain C++ header, like ops_cuda.hpp.
#pragma once

#include "../core/composite.hpp"
#include "ops_cuda.hpp"

namespace interorder::cuda {

// Every plane of `layers` and of `canvas` lives on `device`; `layers` itself is a host array
// (each layer travels in its launch's arguments). One launch per layer, over its box.
void paint_layers(const PaintLayer* layers, int64_t count, const Canvas& canvas, int device, Stream stream);

}  // namespace interorder::cuda
