// Per-pixel arithmetic of the outline kernels (outline.hpp), shared by the CPU kernel and its
// CUDA twin. A pixel's Chebyshev distance to the region sorts it: 1..reach is near (it may
// join), 2 reach + 1 .. 3 reach is the ring whose colours describe the background.
#pragma once

#include <cmath>
#include <cstdint>

#include "hostdevice.hpp"

namespace interorder::outline {

enum Kind : uint8_t { kOther = 0, kNear = 1, kRing = 2 };

// Distances are counted up to this cap: farther pixels play no part.
INTERORDER_HD int distance_cap(int reach) { return 3 * reach + 1; }

// A pixel's kind from whether the region grown by 1, 2 and 3 reaches (squares) holds it: near
// pixels (within one reach, not the region) may join, the ring's (beyond 2, within 3) describe
// the background; only background pixels count.
INTERORDER_HD uint8_t kind_of(bool background, bool region, bool within_one, bool within_two, bool within_three) {
  if (!background || region) return kOther;
  if (within_one) return kNear;
  return within_three && !within_two ? kRing : kOther;
}

// Half the side of the square window whose ring pixels a near pixel is compared with.
INTERORDER_HD int window_half(int reach) { return 2 * reach; }

// What a window holds of the ring: its pixel count, then the sum and the sum of squares of each
// channel (as one row of kSums values, in that order).
constexpr int kSums = 7;

INTERORDER_HD void add_ring_pixel(const uint8_t* rgb, int32_t* sums) {
  sums[0] += 1;
  for (int c = 0; c < 3; ++c) {
    const int32_t v = rgb[c];
    sums[1 + c] += v;
    sums[4 + c] += v * v;
  }
}

// Whether `colour` lies more than `sigmas` deviations plus `levels` from the window's ring
// colours: compose.outline.is_foreign's operations in its order (no fused multiply-adds).
INTERORDER_HD bool is_foreign(const int64_t* sums, const uint8_t* colour, double sigmas, double levels) {
  if (sums[0] <= 0) return false;
  const double scale = static_cast<double>(sums[0]);
  double mean[3], spread[3], offset[3];
  for (int c = 0; c < 3; ++c) {
    mean[c] = static_cast<double>(sums[1 + c]) / scale;
    spread[c] = static_cast<double>(sums[4 + c]) / scale - mean[c] * mean[c];
    offset[c] = (static_cast<double>(colour[c]) - mean[c]) * (static_cast<double>(colour[c]) - mean[c]);
  }
  double variance = (spread[0] + spread[1] + spread[2]) / 3.0;
  if (variance < 0.0) variance = 0.0;
  const double deviation = sqrt(variance);
  const double distance = sqrt((offset[0] + offset[1] + offset[2]) / 3.0);
  return distance > sigmas * deviation + levels;
}

// Stages of the growth: a region pixel is 0, a foreign near pixel not (yet) joined kWaiting,
// any other pixel kNever; a near pixel joined in round k (1..reach) is k.
using Stage = int16_t;
constexpr Stage kWaiting = -1;
constexpr Stage kNever = -2;

// Whether the waiting pixel (x, y) joins in `round`: one of its 8 neighbours joined the round before.
INTERORDER_HD bool joins(const Stage* stage, int64_t h, int64_t w, int64_t x, int64_t y, int32_t round) {
  for (int64_t dy = -1; dy <= 1; ++dy) {
    const int64_t yy = y + dy;
    if (yy < 0 || yy >= h) continue;
    for (int64_t dx = -1; dx <= 1; ++dx) {
      const int64_t xx = x + dx;
      if ((dx || dy) && xx >= 0 && xx < w && stage[yy * w + xx] == round - 1) return true;
    }
  }
  return false;
}

}  // namespace interorder::outline
