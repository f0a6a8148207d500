// CUDA twin of the triangle rasterizer (core/raster.hpp): the same results, on device pointers,
// queued on the caller's stream. Plain C++ header, like ops_cuda.hpp.
#pragma once

#include "../core/raster.hpp"
#include "ops_cuda.hpp"

namespace interorder::cuda {

// Every pointer in `mesh`, `texture` and `out` lives on `device`.
void rasterize(const RasterMesh& mesh, const Texture& texture, const RasterOutput& out, int device, Stream stream);

}  // namespace interorder::cuda
