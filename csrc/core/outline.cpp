// CPU outline kernel (outline.hpp): the region grown by rows (distances) then columns (sliding
// counts), the ring's sums by sliding columns then near pixels' rows, then the growth round by
// round; bands of rows shared by threads.
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

// Adds (`sign` 1) or takes away (-1) the ring pixels of row `y` from the per-column sums
// (kSums per column).
void slide_row(const OutlineInput& in, const uint8_t* kind, int64_t y, int32_t sign, int32_t* columns) {
  if (y < 0 || y >= in.h) return;
  const uint8_t* ring = kind + y * in.w;
  const uint8_t* rgb = in.rgb + y * in.w * 3;
  for (int64_t x = 0; x < in.w; ++x) {
    if (ring[x] != kRing) continue;
    int32_t pixel[kSums] = {0, 0, 0, 0, 0, 0, 0};
    add_ring_pixel(rgb + 3 * x, pixel);
    for (int s = 0; s < kSums; ++s) columns[x * kSums + s] += sign * pixel[s];
  }
}

// Marks each near pixel foreign to the ring pixels of its window (kWaiting) or not (kNever): the
// ring's sums down each column over the window's rows slide row by row, and each near pixel
// adds up the columns of its window; a band of rows per thread.
void test_colours(const OutlineInput& in, const uint8_t* kind, Stage* stage) {
  const int64_t h = in.h, w = in.w, half = window_half(in.reach);
  const int threads = threads_for(h * w * 4);
#pragma omp parallel num_threads(threads)
  {
    const int64_t parts = threads_in_team(), part = thread_in_team();
    const int64_t begin = h * part / parts, end = h * (part + 1) / parts;
    std::vector<int32_t> columns(w * kSums, 0);  // the ring's sums over rows y - half .. y + half
    for (int64_t y = begin - half; y < begin + half; ++y) slide_row(in, kind, y, 1, columns.data());
    for (int64_t y = begin; y < end; ++y) {
      slide_row(in, kind, y + half, 1, columns.data());
      const uint8_t* row = kind + y * w;
      int64_t window[kSums], last = -2;  // the window's sums, at column `last`
      for (int64_t x = 0; x < w; ++x) {
        if (row[x] != kNear) continue;
        if (x == last + 1) {  // the next pixel of a run of near ones: the window slides one column
          for (int s = 0; s < kSums; ++s) {
            window[s] += (x + half < w ? columns[(x + half) * kSums + s] : 0) -
                         (x - half - 1 >= 0 ? columns[(x - half - 1) * kSums + s] : 0);
          }
        } else {
          std::fill(window, window + kSums, int64_t{0});
          for (int64_t xx = std::max<int64_t>(x - half, 0); xx <= std::min(x + half, w - 1); ++xx) {
            for (int s = 0; s < kSums; ++s) window[s] += columns[xx * kSums + s];
          }
        }
        last = x;
        stage[y * w + x] = is_foreign(window, in.rgb + 3 * (y * w + x), in.sigmas, in.levels) ? kWaiting : kNever;
      }
      slide_row(in, kind, y - half, -1, columns.data());
    }
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
  bool any_near = false, any_ring = false;
  for (int64_t i = 0; i < n; ++i) {
    any_near |= kind[i] == kNear;
    any_ring |= kind[i] == kRing;
  }
  if (!any_near || !any_ring) return;
  std::unique_ptr<Stage[]> stage(new Stage[n]);
  for (int64_t i = 0; i < n; ++i) stage[i] = in.region[i] ? 0 : kNever;
  test_colours(in, kind.get(), stage.get());
  std::vector<int64_t> waiting, joined, still;
  for (int64_t i = 0; i < n; ++i) {
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
