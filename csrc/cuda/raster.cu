// Triangle rasterizer on the GPU: a thread per triangle sets it up (raster_math.hpp, as on the
// CPU), then a thread per pixel walks the triangles in index order, so depth ties resolve as on
// the CPU and the bytes match. The walk is over every triangle (a box test rejects most): the
// meshes of the pose stage hold a few thousand triangles.
#include "../core/raster_math.hpp"
#include "common.cuh"
#include "raster_cuda.hpp"

namespace interorder::cuda {
namespace {

__global__ void setup_kernel(RasterMesh mesh, int64_t planes, int64_t out_h, int64_t out_w, TriangleSetup* setups) {
  for (int64_t t = grid_start(); t < mesh.count; t += grid_stride()) {
    setups[t] = setup_triangle(mesh, planes, t, out_h, out_w);
  }
}

__global__ void pixel_kernel(RasterMesh mesh, Texture texture, RasterOutput out, const TriangleSetup* setups) {
  const int64_t total = out.h * out.w;
  for (int64_t p = grid_start(); p < total; p += grid_stride()) {
    const int64_t y = p / out.w, x = p % out.w;
    int32_t owner = -1;
    float depth = 0.0f;
    uint32_t bits = 0;
    for (int64_t t = 0; t < mesh.count; ++t) {
      const TriangleSetup& s = setups[t];
      if (!s.valid || x < s.box[0] || x >= s.box[2] || y < s.box[1] || y >= s.box[3]) continue;
      const uint32_t covered = coverage(s, x, y);
      if (!covered) continue;
      bits |= covered;
      const float z = mesh.depth[t];
      if (owner < 0 || z >= depth) {
        depth = z;
        owner = static_cast<int32_t>(t);
      }
    }
    shade_pixel(setups, texture, mesh, out, x, y, owner, bits);
  }
}

}  // namespace

void rasterize(const RasterMesh& mesh, const Texture& texture, const RasterOutput& out, int device, Stream stream) {
  if (out.h * out.w == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream);
  TriangleSetup* setups = nullptr;
  const size_t bytes = sizeof(TriangleSetup) * static_cast<size_t>(mesh.count > 0 ? mesh.count : 1);
  check(cudaMallocAsync(reinterpret_cast<void**>(&setups), bytes, s), "cudaMallocAsync");
  if (mesh.count > 0) {
    setup_kernel<<<blocks_for(mesh.count), kThreads, 0, s>>>(mesh, texture.planes, out.h, out.w, setups);
    check_launch("setup_kernel");
  }
  pixel_kernel<<<blocks_for(out.h * out.w), kThreads, 0, s>>>(mesh, texture, out, setups);
  check_launch("pixel_kernel");
  check(cudaFreeAsync(setups, s), "cudaFreeAsync");
}

}  // namespace interorder::cuda
