// N x N pair matrices on packed masks: intersection counts and cross-dilation bordering.
// Each pair only visits the rows and words where its boxes can meet, so far-apart pairs cost
// nothing and near pairs cost their overlap, not the frame.
#include <algorithm>
#include <vector>

#include "ops.hpp"
#include "threads.hpp"

namespace interorder {
namespace {

struct Span {
  int64_t x0, y0, x1, y1;  // exclusive ends; empty when x0 >= x1 or y0 >= y1
  bool empty() const { return x0 >= x1 || y0 >= y1; }
};

Span box_of(const int32_t* boxes, int64_t i) {
  const int32_t* b = boxes + 4 * i;
  return {b[0], b[1], b[2], b[3]};
}

Span overlap(const Span& a, const Span& b) {
  return {std::max(a.x0, b.x0), std::max(a.y0, b.y0), std::min(a.x1, b.x1), std::min(a.y1, b.y1)};
}

// The box grown by one pixel on every side (the reach of a 3x3 cross), clipped to the frame.
Span grown(const Span& a, const Dims& d) {
  return {std::max<int64_t>(a.x0 - 1, 0), std::max<int64_t>(a.y0 - 1, 0), std::min(a.x1 + 1, d.w),
          std::min(a.y1 + 1, d.h)};
}

struct Pair {
  int64_t i, j;
  Span region;
};

// Pairs i < j whose (possibly grown) boxes meet, with the region where they meet.
std::vector<Pair> candidate_pairs(const Dims& d, const int32_t* boxes, bool grow) {
  std::vector<Pair> pairs;
  for (int64_t i = 0; i < d.n; ++i) {
    const Span bi = box_of(boxes, i);
    if (bi.empty()) continue;
    const Span reach = grow ? grown(bi, d) : bi;
    for (int64_t j = i + 1; j < d.n; ++j) {
      const Span bj = box_of(boxes, j);
      if (bj.empty()) continue;
      const Span region = overlap(reach, bj);
      if (!region.empty()) pairs.push_back({i, j, region});
    }
  }
  return pairs;
}

INTERORDER_MULTIVERSION
int64_t count_common(const uint64_t* a, const uint64_t* b, const Dims& d, const Span& r) {
  const int64_t k0 = first_word(r.x0), k1 = last_word(r.x1);
  int64_t total = 0;
  for (int64_t y = r.y0; y < r.y1; ++y) {
    const uint64_t* ra = a + y * d.words;
    const uint64_t* rb = b + y * d.words;
    for (int64_t k = k0; k <= k1; ++k) total += popcount64(ra[k] & rb[k]);
  }
  return total;
}

// Word k of row y of `m` dilated by a 3x3 cross (rows outside the frame are empty).
inline uint64_t dilated_word(const uint64_t* m, const Dims& d, int64_t y, int64_t k) {
  const uint64_t* row = m + y * d.words;
  const uint64_t w = row[k];
  uint64_t out = w | (w << 1) | (w >> 1);
  if (k > 0) out |= row[k - 1] >> 63;
  if (k + 1 < d.words) out |= row[k + 1] << 63;
  if (y > 0) out |= row[k - d.words];
  if (y + 1 < d.h) out |= row[k + d.words];
  return out;
}

bool touches(const uint64_t* a, const uint64_t* b, const Dims& d, const Span& r) {
  const int64_t k0 = first_word(r.x0), k1 = last_word(r.x1);
  for (int64_t y = r.y0; y < r.y1; ++y) {
    const uint64_t* rb = b + y * d.words;
    for (int64_t k = k0; k <= k1; ++k) {
      if (rb[k] & dilated_word(a, d, y, k)) return true;
    }
  }
  return false;
}

}  // namespace

void intersection_matrix(const uint64_t* bits, const Dims& d, const int32_t* boxes, const int64_t* areas,
                         int64_t* out) {
  std::fill(out, out + d.n * d.n, int64_t{0});
  for (int64_t i = 0; i < d.n; ++i) out[i * d.n + i] = areas[i];
  const std::vector<Pair> pairs = candidate_pairs(d, boxes, false);
  const int64_t count = static_cast<int64_t>(pairs.size());
  int64_t work = 0;
  for (const Pair& p : pairs) work += (p.region.y1 - p.region.y0) * (last_word(p.region.x1) - first_word(p.region.x0) + 1);
  const int64_t plane = d.mask_stride();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_for(work))
  for (int64_t p = 0; p < count; ++p) {
    const Pair& q = pairs[p];
    const int64_t c = count_common(bits + q.i * plane, bits + q.j * plane, d, q.region);
    out[q.i * d.n + q.j] = c;
    out[q.j * d.n + q.i] = c;
  }
}

void bordering_matrix(const uint64_t* bits, const Dims& d, const int32_t* boxes, uint8_t* out) {
  std::fill(out, out + d.n * d.n, uint8_t{0});
  const std::vector<Pair> pairs = candidate_pairs(d, boxes, true);
  const int64_t count = static_cast<int64_t>(pairs.size());
  int64_t work = 0;
  for (const Pair& p : pairs) work += 4 * (p.region.y1 - p.region.y0) * (last_word(p.region.x1) - first_word(p.region.x0) + 1);
  const int64_t plane = d.mask_stride();
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_for(work))
  for (int64_t p = 0; p < count; ++p) {
    const Pair& q = pairs[p];
    // Bordering is symmetric: p in i, q in j with q in cross(p) iff p in cross(q).
    const uint8_t hit = touches(bits + q.i * plane, bits + q.j * plane, d, q.region) ? 1 : 0;
    out[q.i * d.n + q.j] = hit;
    out[q.j * d.n + q.i] = hit;
  }
}

}  // namespace interorder
