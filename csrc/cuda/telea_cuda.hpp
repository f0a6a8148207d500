// CUDA twin of the Telea fill (core/telea.hpp): the same bytes, on device pointers, queued on the
// caller's stream. The march is serial per image (one GPU thread), so this is for the small
// crops of the completion stage, where it saves the trip to the host. Plain C++ header.
#pragma once

#include <cstdint>

#include "ops_cuda.hpp"

namespace interorder::cuda {

// `rgb` (h, w, 3) and `unknown` (h, w) live on `device`; the scratch is stream-ordered.
void telea_inpaint(uint8_t* rgb, const uint8_t* unknown, int h, int w, int radius, int device, Stream stream);

}  // namespace interorder::cuda
