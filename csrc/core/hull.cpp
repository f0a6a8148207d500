// Convex hull masks: hull of each mask's row extremes, filled row by row (hull_math.hpp).
#include <cstring>
#include <vector>

#include "hull_math.hpp"
#include "ops.hpp"
#include "threads.hpp"

namespace interorder {
namespace {

// The first and last set pixel of every non-empty row, sorted by (y, x), duplicates merged.
void row_extremes(const uint64_t* mask, const Dims& d, const int32_t* box, std::vector<Point>& pts) {
  pts.clear();
  const int64_t k0 = first_word(box[0]), k1 = last_word(box[2]);
  for (int64_t y = box[1]; y < box[3]; ++y) {
    const uint64_t* row = mask + y * d.words;
    int64_t lo = -1, hi = -1;
    for (int64_t k = k0; k <= k1; ++k) {
      if (row[k]) {
        lo = k * 64 + lowest_bit(row[k]);
        break;
      }
    }
    if (lo < 0) continue;
    for (int64_t k = k1; k >= k0; --k) {
      if (row[k]) {
        hi = k * 64 + highest_bit(row[k]);
        break;
      }
    }
    pts.push_back({lo, y});
    if (hi != lo) pts.push_back({hi, y});
  }
}

}  // namespace

void convex_hulls(const uint64_t* bits, const Dims& d, const int32_t* boxes, uint8_t* out) {
#pragma omp parallel num_threads(threads_for(d.n * d.h * d.words))
  {
    std::vector<Point> pts, hull;
#pragma omp for schedule(dynamic, 1)
    for (int64_t i = 0; i < d.n; ++i) {
      const int32_t* box = boxes + 4 * i;
      if (box[2] <= box[0] || box[3] <= box[1]) continue;
      row_extremes(bits + i * d.mask_stride(), d, box, pts);
      hull.resize(2 * pts.size());
      const int64_t m = monotone_hull(pts.data(), static_cast<int64_t>(pts.size()), hull.data());
      uint8_t* plane = out + i * d.h * d.w;
      for (int64_t y = box[1]; y < box[3]; ++y) {
        int64_t lo, hi;
        if (hull_row_span(hull.data(), m, y, box[0], box[2], &lo, &hi)) std::memset(plane + y * d.w + lo, 1, hi - lo + 1);
      }
    }
  }
}

}  // namespace interorder
