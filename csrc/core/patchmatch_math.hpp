// Per-pixel steps of the PatchMatch fill (patchmatch.hpp), shared by the CPU and CUDA kernels.
// Everything is integer arithmetic (SSD distances, fixed-point vote weights, a counter-based
// hash as the random source) and every iteration reads the previous state only (Jacobi), so
// the two builds compute the same pixels bit for bit.
#pragma once

#include <cstdint>

#include "hostdevice.hpp"
#include "row_ssd.hpp"

namespace interorder::pm {

// One pyramid level of the region of interest; planes are (h, w) C order, rgb (h, w, 3).
struct Level {
  int h = 0, w = 0;
  uint8_t* rgb = nullptr;
  uint8_t* hole = nullptr;    // 1: to fill
  uint8_t* source = nullptr;  // 1: may be copied from
  uint8_t* valid = nullptr;   // 1: a patch centred here lies inside the level and in the source
  uint8_t* target = nullptr;  // 1: a patch centred here overlaps the hole (it has an NNF entry)
};

constexpr int kTries = 16;         // random draws for a starting match before the fallback
constexpr int64_t kWeightOne = int64_t{1} << 20;
constexpr int64_t kWeightSoftening = 16;  // mean squared RGB error that halves a vote of 0 error

INTERORDER_HD uint32_t hash32(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u);
  h ^= h >> 16; h *= 0x85EBCA6Bu; h ^= c * 0xC2B2AE35u;
  h ^= h >> 13; h *= 0xC2B2AE35u; h ^= d * 0x27D4EB2Fu;
  h ^= h >> 16; h *= 0x85EBCA6Bu; h ^= h >> 13;
  return h;
}

// Colour of block (x, y) of `fine`: the rounded mean of its source pixels (of its non-hole ones
// when it has none); hole if any pixel is; source when at least half its pixels are, so that a
// strip of ground between avoided instances keeps whole patches on the coarse levels.
INTERORDER_HD void downsample_pixel(const Level& fine, const Level& coarse, int x, int y) {
  int sum[3] = {0, 0, 0}, from_source[3] = {0, 0, 0}, known = 0, sources = 0, inside = 0, hole = 0;
  for (int dy = 0; dy < 2; ++dy) {
    for (int dx = 0; dx < 2; ++dx) {
      const int fx = 2 * x + dx, fy = 2 * y + dy;
      if (fx >= fine.w || fy >= fine.h) continue;
      const int64_t i = static_cast<int64_t>(fy) * fine.w + fx;
      ++inside;
      hole |= fine.hole[i];
      if (fine.source[i]) {
        for (int c = 0; c < 3; ++c) from_source[c] += fine.rgb[3 * i + c];
        ++sources;
      }
      if (!fine.hole[i]) {
        for (int c = 0; c < 3; ++c) sum[c] += fine.rgb[3 * i + c];
        ++known;
      }
    }
  }
  const int64_t o = static_cast<int64_t>(y) * coarse.w + x;
  for (int c = 0; c < 3; ++c) {
    coarse.rgb[3 * o + c] = sources ? static_cast<uint8_t>((from_source[c] + sources / 2) / sources)
                            : known ? static_cast<uint8_t>((sum[c] + known / 2) / known) : 0;
  }
  coarse.hole[o] = static_cast<uint8_t>(hole);
  coarse.source[o] = static_cast<uint8_t>(!hole && 2 * sources >= inside);
}

// Calls visit(i) on the linear index of each pixel of the patch at (x, y) inside the level, row by
// row, while it returns true.
template <typename Visit>
INTERORDER_HD void visit_patch(const Level& L, int r, int x, int y, Visit visit) {
  for (int dy = -r; dy <= r; ++dy) {
    const int yy = y + dy;
    if (yy < 0 || yy >= L.h) continue;
    for (int dx = -r; dx <= r; ++dx) {
      const int xx = x + dx;
      if (xx >= 0 && xx < L.w && !visit(static_cast<int64_t>(yy) * L.w + xx)) return;
    }
  }
}

// valid and target flags of pixel (x, y) for patches of radius r.
INTERORDER_HD void classify_pixel(const Level& L, int r, int x, int y) {
  const int64_t o = static_cast<int64_t>(y) * L.w + x;
  uint8_t valid = x >= r && y >= r && x + r < L.w && y + r < L.h;
  uint8_t target = 0;
  visit_patch(L, r, x, y, [&](int64_t i) {
    valid &= L.source[i];
    target |= L.hole[i];
    return true;
  });
  L.valid[o] = valid;
  L.target[o] = target;
}

// One onion-peel step: an unfilled pixel next to a filled one (8-neighbourhood) takes their
// rounded mean. Reads `filled` / `rgb`, writes `filled_out` / `rgb_out`; returns whether it changed.
INTERORDER_HD bool peel_pixel(const Level& L, const uint8_t* filled, uint8_t* filled_out, uint8_t* rgb_out,
                              int x, int y) {
  const int64_t o = static_cast<int64_t>(y) * L.w + x;
  filled_out[o] = filled[o];
  for (int c = 0; c < 3; ++c) rgb_out[3 * o + c] = L.rgb[3 * o + c];
  if (filled[o]) return false;
  int sum[3] = {0, 0, 0}, n = 0;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const int xx = x + dx, yy = y + dy;
      if (xx < 0 || yy < 0 || xx >= L.w || yy >= L.h) continue;
      const int64_t i = static_cast<int64_t>(yy) * L.w + xx;
      if (!filled[i]) continue;
      for (int c = 0; c < 3; ++c) sum[c] += L.rgb[3 * i + c];
      ++n;
    }
  }
  if (n == 0) return false;
  for (int c = 0; c < 3; ++c) rgb_out[3 * o + c] = static_cast<uint8_t>((sum[c] + n / 2) / n);
  filled_out[o] = 1;
  return true;
}

// The SSD of two patches wholly inside the level, rows of `Span` bytes (0: 3 (2r + 1) at run
// time); a compile-time span lets the compiler unroll and vectorise the shipped patch sizes.
template <int Span>
INTERORDER_HD int64_t inner_distance(const Level& L, int r, int px, int py, int sx, int sy, int64_t bound) {
  const int span = Span ? Span : 3 * (2 * r + 1);
  int64_t total = 0;
  for (int dy = -r; dy <= r; ++dy) {
    const uint8_t* a = L.rgb + 3 * (static_cast<int64_t>(py + dy) * L.w + px - r);
    const uint8_t* b = L.rgb + 3 * (static_cast<int64_t>(sy + dy) * L.w + sx - r);
    total += row_ssd<Span>(a, b, span);
    if (total > bound) return total;
  }
  return total;
}

// Sum of squared RGB differences between the patch at target p and the patch at source s,
// over the target patch's pixels inside the level; stops early once it exceeds `bound`.
INTERORDER_HD int64_t patch_distance(const Level& L, int r, int px, int py, int sx, int sy, int64_t bound) {
  if (px >= r && py >= r && px + r < L.w && py + r < L.h) {  // whole patch inside: contiguous rows
    switch (r) {
      case 3: return inner_distance<21>(L, r, px, py, sx, sy, bound);
      case 2: return inner_distance<15>(L, r, px, py, sx, sy, bound);
      case 1: return inner_distance<9>(L, r, px, py, sx, sy, bound);
      default: return inner_distance<0>(L, r, px, py, sx, sy, bound);
    }
  }
  int64_t total = 0;
  for (int dy = -r; dy <= r; ++dy) {
    const int ty = py + dy;
    if (ty < 0 || ty >= L.h) continue;
    const uint8_t* trow = L.rgb + 3 * static_cast<int64_t>(ty) * L.w;
    const uint8_t* srow = L.rgb + 3 * static_cast<int64_t>(sy + dy) * L.w;
    for (int dx = -r; dx <= r; ++dx) {
      const int tx = px + dx;
      if (tx < 0 || tx >= L.w) continue;
      const uint8_t* a = trow + 3 * tx;
      const uint8_t* b = srow + 3 * (sx + dx);
      const int d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
      total += d0 * d0 + d1 * d1 + d2 * d2;
    }
    if (total > bound) return total;
  }
  return total;
}

// Pixels of the target patch at (x, y) inside the level (the distance's sample count).
INTERORDER_HD int64_t patch_pixels(const Level& L, int r, int x, int y) {
  const int x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= L.w ? L.w - 1 : x + r;
  const int y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= L.h ? L.h - 1 : y + r;
  return static_cast<int64_t>(x1 - x0 + 1) * (y1 - y0 + 1);
}

INTERORDER_HD int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// A starting match for target (x, y): `guess` (linear index, or -1) if valid, else random
// valid centres, else `fallback`.
INTERORDER_HD int32_t start_match(const Level& L, int32_t guess, int32_t fallback, uint32_t seed, uint32_t level,
                                  int x, int y) {
  if (guess >= 0 && L.valid[guess]) return guess;
  const uint32_t pixel = static_cast<uint32_t>(y) * static_cast<uint32_t>(L.w) + static_cast<uint32_t>(x);
  const uint32_t area = static_cast<uint32_t>(L.w) * static_cast<uint32_t>(L.h);
  for (int k = 0; k < kTries; ++k) {
    const uint32_t c = hash32(seed, level * 64u + 63u, pixel, static_cast<uint32_t>(k)) % area;
    if (L.valid[c]) return static_cast<int32_t>(c);
  }
  return fallback;
}

// The NNF entry of target (x, y) upsampled from the coarser level's NNF.
INTERORDER_HD int32_t upsampled_guess(const Level& L, const int32_t* coarse_nnf, int coarse_w, int coarse_h, int x,
                                      int y) {
  const int cx = x / 2, cy = y / 2;
  if (cx >= coarse_w || cy >= coarse_h) return -1;
  const int32_t c = coarse_nnf[static_cast<int64_t>(cy) * coarse_w + cx];
  if (c < 0) return -1;
  const int sx = clamp_int(2 * (c % coarse_w) + (x & 1), 0, L.w - 1);
  const int sy = clamp_int(2 * (c / coarse_w) + (y & 1), 0, L.h - 1);
  return sy * L.w + sx;
}

// Vote weight of a match with SSD `dist` for the target patch at (x, y): fixed-point
// 1 / (softening + mean squared error per pixel).
INTERORDER_HD uint32_t match_weight(const Level& L, int r, int64_t dist, int x, int y) {
  return static_cast<uint32_t>(kWeightOne / (kWeightSoftening + dist / patch_pixels(L, r, x, y)));
}

// The vote weight of target (x, y)'s current match, without searching.
INTERORDER_HD void score_pixel(const Level& L, int r, const int32_t* nnf, uint32_t* weight_out, int x, int y) {
  const int64_t o = static_cast<int64_t>(y) * L.w + x;
  weight_out[o] = match_weight(L, r, patch_distance(L, r, x, y, nnf[o] % L.w, nnf[o] / L.w, INT64_MAX), x, y);
}

// One PatchMatch step for target (x, y): propagation from the four neighbours at distances 1
// and `jump`, then random search around the best match at radii halving from `radius`, plus one
// draw anywhere in the level. Writes the best match and its vote weight.
INTERORDER_HD void search_pixel(const Level& L, int r, const int32_t* nnf, int32_t* nnf_out, uint32_t* weight_out,
                                uint32_t seed, uint32_t step, int jump, int radius, int x, int y) {
  const int64_t o = static_cast<int64_t>(y) * L.w + x;
  int32_t best = nnf[o];
  int64_t best_d = patch_distance(L, r, x, y, best % L.w, best / L.w, INT64_MAX);
  const int dirs[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
  for (int k = 0; k < 8; ++k) {
    const int dist = k < 4 ? 1 : jump;
    const int dx = dirs[k & 3][0] * dist, dy = dirs[k & 3][1] * dist;
    const int qx = x + dx, qy = y + dy;
    if (qx < 0 || qy < 0 || qx >= L.w || qy >= L.h) continue;
    const int64_t q = static_cast<int64_t>(qy) * L.w + qx;
    if (!L.target[q]) continue;
    const int sx = nnf[q] % L.w - dx, sy = nnf[q] / L.w - dy;
    if (sx < 0 || sy < 0 || sx >= L.w || sy >= L.h) continue;
    const int32_t c = sy * L.w + sx;
    if (c == best || !L.valid[c]) continue;
    const int64_t d = patch_distance(L, r, x, y, sx, sy, best_d);
    if (d < best_d) best_d = d, best = c;
  }
  const uint32_t pixel = static_cast<uint32_t>(o);
  uint32_t draw = 0;
  for (; radius >= 1; radius /= 2, ++draw) {
    const uint32_t h = hash32(seed, step, pixel, draw);
    const int span = 2 * radius + 1;
    const int sx = clamp_int(best % L.w + static_cast<int>(h % span) - radius, 0, L.w - 1);
    const int sy = clamp_int(best / L.w + static_cast<int>((h >> 16) % span) - radius, 0, L.h - 1);
    const int32_t c = sy * L.w + sx;
    if (c == best || !L.valid[c]) continue;
    const int64_t d = patch_distance(L, r, x, y, sx, sy, best_d);
    if (d < best_d) best_d = d, best = c;
  }
  const uint32_t anywhere = hash32(seed, step, pixel, 255u) % (static_cast<uint32_t>(L.w) * static_cast<uint32_t>(L.h));
  if (static_cast<int32_t>(anywhere) != best && L.valid[anywhere]) {
    const int64_t d = patch_distance(L, r, x, y, anywhere % L.w, anywhere / L.w, best_d);
    if (d < best_d) best_d = d, best = static_cast<int32_t>(anywhere);
  }
  nnf_out[o] = best;
  weight_out[o] = match_weight(L, r, best_d, x, y);
}

// Whether the patch at target (x, y) covers a hole pixel that is `shown` (one whose vote is wanted).
INTERORDER_HD bool covers_shown(const Level& L, const uint8_t* shown, int r, int x, int y) {
  bool found = false;
  visit_patch(L, r, x, y, [&](int64_t i) {
    found = L.hole[i] && shown[i];
    return !found;
  });
  return found;
}

// The colour of hole pixel (x, y): the weighted mean of what every patch covering it copies there.
INTERORDER_HD void vote_pixel(const Level& L, int r, const int32_t* nnf, const uint32_t* weight, uint8_t* rgb_out,
                              int x, int y) {
  const int64_t o = static_cast<int64_t>(y) * L.w + x;
  uint64_t sum[3] = {0, 0, 0}, total = 0;
  for (int dy = -r; dy <= r; ++dy) {
    const int py = y - dy;
    if (py < 0 || py >= L.h) continue;
    for (int dx = -r; dx <= r; ++dx) {
      const int px = x - dx;
      if (px < 0 || px >= L.w) continue;
      const int64_t p = static_cast<int64_t>(py) * L.w + px;
      const int32_t s = nnf[p];
      if (s < 0) continue;
      const uint64_t w = weight[p];
      const uint8_t* c = L.rgb + 3 * (static_cast<int64_t>(s) + static_cast<int64_t>(dy) * L.w + dx);
      sum[0] += w * c[0], sum[1] += w * c[1], sum[2] += w * c[2];
      total += w;
    }
  }
  for (int c = 0; c < 3; ++c) {
    rgb_out[3 * o + c] = total ? static_cast<uint8_t>((sum[c] + total / 2) / total) : L.rgb[3 * o + c];
  }
}

}  // namespace interorder::pm
