// Triangle mesh rasterizer for the pose stage: textured triangles, a z-buffer over part layers,
// coverage as alpha. The CPU kernel (raster.cpp) and its CUDA twin (cuda/raster.cu) share the
// per-triangle setup and the per-pixel arithmetic of raster_math.hpp and give the same bytes.
#pragma once

#include <cstdint>

namespace interorder {

// A mesh placed in the output box. Vertex positions are in output pixels (pixel centres at integer
// coordinates, as OpenCV's), texture coordinates in texture pixels of the triangle's plane.
struct RasterMesh {
  const float* target = nullptr;       // (vertices, 2) x, y in the output
  const float* source = nullptr;       // (vertices, 2) x, y in the texture
  const int32_t* triangles = nullptr;  // (count, 3) vertex indices
  const int32_t* planes = nullptr;     // (count,) texture plane each triangle samples
  const float* depth = nullptr;        // (count,) larger is nearer; ties go to the later triangle
  // (count,) bit k set: edge k (vertices k and k + 1 mod 3) is shared with another triangle of the
  // same layer, so only pixel centres are tested against it (the neighbour covers the rest).
  const uint8_t* internal = nullptr;
  int64_t vertices = 0;
  int64_t count = 0;
};

// (planes, h, w, 3) uint8 RGB texture stack, C order.
struct Texture {
  const uint8_t* rgb = nullptr;
  int64_t planes = 0;
  int64_t h = 0;
  int64_t w = 0;
};

// The outputs, each (h, w[, c]) C order, fully written:
// rgb (h, w, 3) uint8, bilinear texture sample of the pixel's front triangle (0 where none);
// alpha (h, w) uint8, share of the pixel's 4 x 4 samples covered by any triangle, 0..255;
// owner (h, w) int32, index of the front triangle (-1 where none);
// source_xy (h, w, 2) float32, the texture coordinate sampled (NaN where none).
struct RasterOutput {
  uint8_t* rgb = nullptr;
  uint8_t* alpha = nullptr;
  int32_t* owner = nullptr;
  float* source_xy = nullptr;
  int64_t h = 0;
  int64_t w = 0;
};

// Rasterizes `mesh` into `out`. Triangles with an out-of-range vertex or plane index, a
// non-finite coordinate or zero area are skipped.
void rasterize(const RasterMesh& mesh, const Texture& texture, const RasterOutput& out);

}  // namespace interorder
