// CPU triangle rasterizer (raster.hpp): triangles binned into bands of rows, bands shaded in
// parallel, each pixel visited by one thread in triangle order (so ties resolve the same way);
// per row, only the span of pixels the triangle can touch is tested.
#include <algorithm>
#include <cmath>
#include <vector>

#include "raster.hpp"
#include "raster_math.hpp"
#include "threads.hpp"

namespace interorder {
namespace {

constexpr int64_t kBandRows = 8;
constexpr float kSpanSlack = 0.05f;  // pixels: the row span only skips pixels surely outside

// Columns [*lo, *hi) of row y whose pixels can touch triangle s: where no edge rejects the pixel
// centre outright (coverage() decides exactly inside the span, so the result does not change).
void row_span(const TriangleSetup& s, int64_t y, int64_t* lo, int64_t* hi) {
  float first = static_cast<float>(s.box[0]), last = static_cast<float>(s.box[2] - 1);
  for (int k = 0; k < 3 && first <= last; ++k) {
    const float a = s.edge[k][0];
    const float value = s.edge[k][1] * static_cast<float>(y) + s.edge[k][2];
    const float needed = (((s.internal >> k) & 1u) ? 0.0f : -kFullMargin) - kSpanSlack - value;
    // The bound clamped to just outside [first, last] first: the span is the same, and the
    // rounding stays within the range where floor_f is exact.
    if (a > 1e-6f) {
      first = std::max(first, -floor_f(-clamp_f(needed / a, first - 1.0f, last + 1.0f)));
    } else if (a < -1e-6f) {
      last = std::min(last, floor_f(clamp_f(needed / a, first - 1.0f, last + 1.0f)));
    } else if (needed > 0.0f) {
      last = first - 1.0f;
    }
  }
  *lo = static_cast<int64_t>(first);
  *hi = first <= last ? static_cast<int64_t>(last) + 1 : *lo;
}

}  // namespace

void rasterize(const RasterMesh& mesh, const Texture& texture, const RasterOutput& out) {
  const int64_t bands = (out.h + kBandRows - 1) / kBandRows;
  std::vector<TriangleSetup> setups(static_cast<size_t>(mesh.count));
  std::vector<std::vector<int32_t>> binned(static_cast<size_t>(bands));
  int64_t work = out.h * out.w;
  for (int64_t t = 0; t < mesh.count; ++t) {
    setups[t] = setup_triangle(mesh, texture.planes, t, out.h, out.w);
    const TriangleSetup& s = setups[t];
    if (!s.valid) continue;
    work += static_cast<int64_t>(s.box[2] - s.box[0]) * (s.box[3] - s.box[1]);
    for (int64_t b = s.box[1] / kBandRows; b * kBandRows < s.box[3]; ++b) binned[b].push_back(static_cast<int32_t>(t));
  }
#pragma omp parallel num_threads(threads_for(16 * work))
  {
    std::vector<float> depth(static_cast<size_t>(kBandRows * out.w));
    std::vector<int32_t> owner(depth.size());
    std::vector<uint32_t> bits(depth.size());
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < bands; ++b) {
      const int64_t y_start = b * kBandRows, y_end = y_start + kBandRows < out.h ? y_start + kBandRows : out.h;
      std::fill(owner.begin(), owner.end(), -1);
      std::fill(bits.begin(), bits.end(), 0u);
      for (const int32_t t : binned[b]) {
        const TriangleSetup& s = setups[t];
        const float z = mesh.depth[t];
        const int64_t y0 = s.box[1] > y_start ? s.box[1] : y_start, y1 = s.box[3] < y_end ? s.box[3] : y_end;
        for (int64_t y = y0; y < y1; ++y) {
          const int64_t row = (y - y_start) * out.w;
          int64_t x_lo, x_hi;
          row_span(s, y, &x_lo, &x_hi);
          for (int64_t x = x_lo; x < x_hi; ++x) {
            const uint32_t covered = coverage(s, x, y);
            if (!covered) continue;
            bits[row + x] |= covered;
            if (owner[row + x] < 0 || z >= depth[row + x]) {
              depth[row + x] = z;
              owner[row + x] = t;
            }
          }
        }
      }
      for (int64_t y = y_start; y < y_end; ++y) {
        const int64_t row = (y - y_start) * out.w;
        for (int64_t x = 0; x < out.w; ++x) shade_pixel(setups.data(), texture, mesh, out, x, y, owner[row + x], bits[row + x]);
      }
    }
  }
}

}  // namespace interorder
