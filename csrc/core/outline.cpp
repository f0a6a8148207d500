// CPU outline kernel (outline.hpp): the region grown by rows (distances) then columns (sliding
// counts), the ring's sums by sliding rows then near pixels' columns, then the growth round by
// round; rows shared by threads.
#include "outline.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "outline_math.hpp"
#include "threads.hpp"

namespace interorder {
namespace {

using namespace outline;

// Each pixel's distance to the nearest region pixel of its row, capped at `cap`.
void row_distances(const OutlineInput& in, int cap, int32_t* across) {
  const int64_t h = in.h, w = in.w;
#pragma omp parallel for schedule(static) num_threads(threads_for(h * w))
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t* region = in.region + y * w;
    int32_t* row = across + y * w;
    int64_t last = -cap;
    for (int64_t x = 0; x < w; ++x) {
      if (region[x]) last = x;
      row[x] = static_cast<int32_t>(std::min<int64_t>(cap, x - last));
    }
    int64_t next = w + cap;
    for (int64_t x = w - 1; x >= 0; --x) {
      if (region[x]) next = x;
      row[x] = static_cast<int32_t>(std::min<int64_t>(row[x], next - x));
    }
  }
}

// Each pixel's kind (outline_math.hpp). The region grown by k (a square) holds a pixel when a
// row within k of it has a region pixel within k: counted down each column in a sliding window,
// a band of rows per thread.
void kinds(const OutlineInput& in, const int32_t* across, uint8_t* kind) {
  const int64_t h = in.h, w = in.w;
  const int32_t sides[3] = {in.reach, 2 * in.reach, 3 * in.reach};
  const int threads = threads_for(h * w * 8);
#pragma omp parallel num_threads(threads)
  {
    const int64_t parts = threads_in_team(), part = thread_in_team();
    const int64_t begin = h * part / parts, end = h * (part + 1) / parts;
    std::vector<int32_t> counts(3 * w, 0);  // per side: the rows within it of the current row, per column
    auto slide = [&](int s, int64_t y, int32_t step) {
      if (y < 0 || y >= h) return;
      const int32_t* row = across + y * w;
      int32_t* count = counts.data() + s * w;
      for (int64_t x = 0; x < w; ++x) count[x] += step * (row[x] <= sides[s]);
    };
    for (int s = 0; s < 3; ++s) {
      for (int64_t y = begin - sides[s]; y <= begin + sides[s] - 1; ++y) slide(s, y, 1);
    }
    for (int64_t y = begin; y < end; ++y) {
      for (int s = 0; s < 3; ++s) slide(s, y + sides[s], 1);
      const uint8_t* background = in.background + y * w;
      const uint8_t* region = in.region + y * w;
      for (int64_t x = 0; x < w; ++x) {
        kind[y * w + x] = kind_of(background[x] != 0, region[x] != 0, counts[x] > 0, counts[w + x] > 0,
                                  counts[2 * w + x] > 0);
      }
      for (int s = 0; s < 3; ++s) slide(s, y - sides[s], -1);
    }
  }
}

// Each pixel's sums (kSums per pixel) of the ring pixels of its row within the window's half side.
void row_sums(const OutlineInput& in, const uint8_t* kind, int32_t* sums) {
  const int64_t h = in.h, w = in.w, half = window_half(in.reach);
#pragma omp parallel for schedule(static) num_threads(threads_for(h * w * kSums))
  for (int64_t y = 0; y < h; ++y) {
    int32_t running[kSums] = {0, 0, 0, 0, 0, 0, 0}, leaving[kSums];
    const uint8_t* rgb = in.rgb + y * w * 3;
    const uint8_t* ring = kind + y * w;
    for (int64_t x = 0; x < std::min(half, w); ++x) {
      if (ring[x] == kRing) add_ring_pixel(rgb + 3 * x, running);
    }
    for (int64_t x = 0; x < w; ++x) {
      if (x + half < w && ring[x + half] == kRing) add_ring_pixel(rgb + 3 * (x + half), running);
      std::copy(running, running + kSums, sums + (y * w + x) * kSums);
      if (x >= half && ring[x - half] == kRing) {
        std::fill(leaving, leaving + kSums, 0);
        add_ring_pixel(rgb + 3 * (x - half), leaving);
        for (int s = 0; s < kSums; ++s) running[s] -= leaving[s];
      }
    }
  }
}

// Marks each near pixel foreign to the ring pixels of its window (kWaiting) or not (kNever).
void test_colours(const OutlineInput& in, const std::vector<int64_t>& near, const int32_t* sums, Stage* stage) {
  const int64_t h = in.h, w = in.w, half = window_half(in.reach), count = static_cast<int64_t>(near.size());
#pragma omp parallel for schedule(static) num_threads(threads_for(count * (2 * half + 1) * kSums))
  for (int64_t j = 0; j < count; ++j) {
    const int64_t i = near[j], y = i / w, x = i % w;
    int64_t window[kSums] = {0, 0, 0, 0, 0, 0, 0};
    for (int64_t yy = std::max<int64_t>(y - half, 0); yy <= std::min(y + half, h - 1); ++yy) {
      const int32_t* row = sums + (yy * w + x) * kSums;
      for (int s = 0; s < kSums; ++s) window[s] += row[s];
    }
    stage[i] = is_foreign(window, in.rgb + 3 * i, in.sigmas, in.levels) ? kWaiting : kNever;
  }
}

}  // namespace

void foreign_outline(const OutlineInput& in, uint8_t* out) {
  const int64_t h = in.h, w = in.w, n = h * w;
  std::fill(out, out + n, uint8_t{0});
  if (in.reach < 1 || n == 0) return;
  std::unique_ptr<int32_t[]> across(new int32_t[n]);
  std::unique_ptr<uint8_t[]> kind(new uint8_t[n]);
  row_distances(in, distance_cap(in.reach), across.get());
  kinds(in, across.get(), kind.get());
  std::vector<int64_t> near;
  bool any_ring = false;
  for (int64_t i = 0; i < n; ++i) {
    if (kind[i] == kNear) near.push_back(i);
    any_ring |= kind[i] == kRing;
  }
  if (near.empty() || !any_ring) return;
  std::unique_ptr<int32_t[]> sums(new int32_t[n * kSums]);
  row_sums(in, kind.get(), sums.get());
  std::unique_ptr<Stage[]> stage(new Stage[n]);
  for (int64_t i = 0; i < n; ++i) stage[i] = in.region[i] ? 0 : kNever;
  test_colours(in, near, sums.get(), stage.get());
  std::vector<int64_t> waiting, joined, still;
  for (const int64_t i : near) {
    if (stage[i] == kWaiting) waiting.push_back(i);
  }
  for (int32_t round = 1; round <= in.reach && !waiting.empty(); ++round) {
    joined.clear();
    still.clear();
    for (const int64_t i : waiting) (joins(stage.get(), h, w, i % w, i / w, round) ? joined : still).push_back(i);
    if (joined.empty()) break;
    for (const int64_t i : joined) {
      stage[i] = static_cast<Stage>(round);
      out[i] = 1;
    }
    waiting.swap(still);
  }
}

}  // namespace interorder
