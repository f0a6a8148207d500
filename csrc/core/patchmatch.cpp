// CPU PatchMatch fill (patchmatch.hpp): the per-pixel steps of patchmatch_math.hpp in OpenMP loops.
#include "patchmatch.hpp"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "patchmatch_math.hpp"
#include "threads.hpp"

namespace interorder {
namespace {

// Storage of one pyramid level, and the lists of its target and hole pixels.
struct LevelData {
  int h = 0, w = 0;
  std::vector<uint8_t> rgb, hole, source, valid, target;
  std::vector<int32_t> targets, holes;

  LevelData(int height, int width)
      : h(height), w(width), rgb(3 * size()), hole(size()), source(size()), valid(size()), target(size()) {}
  size_t size() const { return static_cast<size_t>(h) * static_cast<size_t>(w); }
  pm::Level view() { return {h, w, rgb.data(), hole.data(), source.data(), valid.data(), target.data()}; }
};

int threads_for_pixels(int64_t pixels, int64_t cost) { return threads_for(pixels * cost); }

// valid / target flags (as pm::classify_pixel, by separable window sums) and the pixel lists;
// returns the first valid centre, or -1.
int32_t classify(LevelData& level, int r) {
  const int h = level.h, w = level.w, side = 2 * r + 1;
  std::vector<int32_t> source_run(level.size()), hole_run(level.size());  // per-row window counts
#pragma omp parallel for schedule(static) num_threads(threads_for_pixels(static_cast<int64_t>(level.size()), 8))
  for (int y = 0; y < h; ++y) {
    const int64_t row = static_cast<int64_t>(y) * w;
    const uint8_t* src = level.source.data() + row;
    const uint8_t* hole = level.hole.data() + row;
    int32_t s = 0, o = 0;
    for (int x = 0; x < std::min(r, w); ++x) s += src[x], o += hole[x];
    for (int x = 0; x < w; ++x) {
      if (x + r < w) s += src[x + r], o += hole[x + r];
      if (x - r - 1 >= 0) s -= src[x - r - 1], o -= hole[x - r - 1];
      source_run[row + x] = s;
      hole_run[row + x] = o;
    }
  }
  // Column sums over the rows [y - r, y + r], moved down one row at a time (contiguous rows).
  std::vector<int32_t> column_sources(w, 0), column_holes(w, 0);
  int32_t* __restrict__ s = column_sources.data();
  int32_t* __restrict__ o = column_holes.data();
  const auto add_row = [&](int y, int sign) {
    const int32_t* __restrict__ sr = source_run.data() + static_cast<int64_t>(y) * w;
    const int32_t* __restrict__ orow = hole_run.data() + static_cast<int64_t>(y) * w;
    for (int x = 0; x < w; ++x) s[x] += sign * sr[x], o[x] += sign * orow[x];
  };
  for (int y = 0; y < std::min(r, h); ++y) add_row(y, 1);
  int32_t first = -1;
  for (int y = 0; y < h; ++y) {
    if (y + r < h) add_row(y + r, 1);
    if (y - r - 1 >= 0) add_row(y - r - 1, -1);
    const int64_t row = static_cast<int64_t>(y) * w;
    uint8_t* __restrict__ valid = level.valid.data() + row;
    uint8_t* __restrict__ target = level.target.data() + row;
    const bool rows_inside = y >= r && y + r < h;
    for (int x = 0; x < w; ++x) {
      valid[x] = rows_inside && x >= r && x + r < w && s[x] == side * side;
      target[x] = o[x] > 0;
    }
    const uint8_t* hole = level.hole.data() + row;
    for (int x = 0; x < w; ++x) {
      const int32_t i = static_cast<int32_t>(row + x);
      if (target[x]) level.targets.push_back(i);
      if (hole[x]) level.holes.push_back(i);
      if (first < 0 && valid[x]) first = i;
    }
  }
  return first;
}

LevelData downsample(LevelData& fine) {
  LevelData coarse((fine.h + 1) / 2, (fine.w + 1) / 2);
  const pm::Level f = fine.view(), c = coarse.view();
  const int64_t n = static_cast<int64_t>(coarse.size());
#pragma omp parallel for schedule(static) num_threads(threads_for_pixels(n, 16))
  for (int64_t i = 0; i < n; ++i) pm::downsample_pixel(f, c, static_cast<int>(i % c.w), static_cast<int>(i / c.w));
  return coarse;
}

// Onion peel of the hole from its border inwards: the coarsest level's starting colours.
void peel(LevelData& level) {
  const pm::Level L = level.view();
  const int64_t n = static_cast<int64_t>(level.size());
  std::vector<uint8_t> filled(level.size()), filled_out(level.size()), rgb_out(level.rgb.size());
  for (int64_t i = 0; i < n; ++i) filled[i] = !level.hole[i];
  bool changed = true;
  while (changed) {
    changed = false;
#pragma omp parallel for schedule(static) reduction(|| : changed) num_threads(threads_for_pixels(n, 16))
    for (int64_t i = 0; i < n; ++i) {
      changed = pm::peel_pixel(L, filled.data(), filled_out.data(), rgb_out.data(), static_cast<int>(i % L.w),
                               static_cast<int>(i / L.w)) || changed;
    }
    std::swap(filled, filled_out);
    std::memcpy(level.rgb.data(), rgb_out.data(), rgb_out.size());
  }
}

// Hole pixels of `fine` take the colour of the coarse pixel above them.
void upsample_colours(LevelData& fine, const LevelData& coarse) {
  for (const int32_t i : fine.holes) {
    const int x = i % fine.w, y = i / fine.w;
    const int64_t c = static_cast<int64_t>(y / 2) * coarse.w + x / 2;
    for (int k = 0; k < 3; ++k) fine.rgb[3 * static_cast<int64_t>(i) + k] = coarse.rgb[3 * c + k];
  }
}

// Every hole pixel of the level from the patches covering it (in place: votes read source pixels only).
void vote(LevelData& level, int r, const std::vector<int32_t>& nnf, const std::vector<uint32_t>& weight) {
  const pm::Level L = level.view();
  const int64_t holes = static_cast<int64_t>(level.holes.size());
#pragma omp parallel for schedule(static) num_threads(threads_for_pixels(holes, 200))
  for (int64_t k = 0; k < holes; ++k) {
    const int32_t i = level.holes[k];
    pm::vote_pixel(L, r, nnf.data(), weight.data(), level.rgb.data(), i % L.w, i / L.w);
  }
}

// The full-size level's work cut to what the `shown` hole pixels need: their votes, and the
// targets whose patches cover one of them (pm::covers_shown, here by separable window counts).
void keep_shown(LevelData& level, const uint8_t* shown, int r) {
  const int h = level.h, w = level.w;
  std::vector<int32_t> row_count(level.size());
  for (int y = 0; y < h; ++y) {
    const int64_t row = static_cast<int64_t>(y) * w;
    const auto wanted = [&](int x) { return static_cast<int32_t>(level.hole[row + x] && shown[row + x]); };
    int32_t count = 0;
    for (int x = 0; x < std::min(r, w); ++x) count += wanted(x);
    for (int x = 0; x < w; ++x) {
      if (x + r < w) count += wanted(x + r);
      if (x - r - 1 >= 0) count -= wanted(x - r - 1);
      row_count[row + x] = count;
    }
  }
  std::vector<int32_t> window(w, 0);
  const auto add_row = [&](int y, int sign) {
    const int32_t* counts = row_count.data() + static_cast<int64_t>(y) * w;
    for (int x = 0; x < w; ++x) window[x] += sign * counts[x];
  };
  std::vector<uint8_t> needed(level.size());
  for (int y = 0; y < std::min(r, h); ++y) add_row(y, 1);
  for (int y = 0; y < h; ++y) {
    if (y + r < h) add_row(y + r, 1);
    if (y - r - 1 >= 0) add_row(y - r - 1, -1);
    for (int x = 0; x < w; ++x) needed[static_cast<int64_t>(y) * w + x] = window[x] > 0;
  }
  const auto drop = [](std::vector<int32_t>& pixels, const auto& keep) {
    pixels.erase(std::remove_if(pixels.begin(), pixels.end(), [&](int32_t i) { return !keep(i); }), pixels.end());
  };
  drop(level.targets, [&](int32_t i) { return needed[i] != 0; });
  drop(level.holes, [&](int32_t i) { return shown[i] != 0; });
}

}  // namespace

int fill_levels(int h, int w, const FillOptions& options) {
  int levels = 1;
  while (std::max(h, w) / 2 >= options.coarsest_side && std::min(h, w) / 2 >= options.patch_size) {
    h = (h + 1) / 2, w = (w + 1) / 2, ++levels;
  }
  return levels;
}

bool patchmatch_fill(uint8_t* rgb, const uint8_t* hole, const uint8_t* source, int h, int w,
                     const FillOptions& options, const uint8_t* shown) {
  const int r = options.patch_size / 2;
  std::vector<LevelData> levels;
  levels.emplace_back(h, w);
  LevelData& base = levels.back();
  std::memcpy(base.rgb.data(), rgb, base.rgb.size());
  for (size_t i = 0; i < base.size(); ++i) {
    base.hole[i] = hole[i] != 0;
    base.source[i] = source[i] != 0 && !base.hole[i];
  }
  std::vector<int32_t> fallback{classify(base, r)};
  if (fallback[0] < 0) return false;
  if (base.holes.empty()) return true;
  const int wanted = fill_levels(h, w, options);
  while (static_cast<int>(levels.size()) < wanted) {
    LevelData coarse = downsample(levels.back());
    const int32_t first = classify(coarse, r);
    if (first < 0) break;
    levels.push_back(std::move(coarse));
    fallback.push_back(first);
  }

  std::vector<int32_t> nnf, coarse_nnf;
  int coarse_w = 0, coarse_h = 0;
  const int top = static_cast<int>(levels.size()) - 1;
  for (int l = top; l >= 0; --l) {
    LevelData& level = levels[l];
    const pm::Level L = level.view();
    const int rounds = l == 0 && top > 0 ? options.finest_iterations : std::max(1, options.iterations >> (top - l));
    if (l == top) {
      peel(level);
    } else {
      upsample_colours(level, levels[l + 1]);
    }
    if (l == 0 && rounds == 0 && shown) keep_shown(level, shown, r);
    const int64_t count = static_cast<int64_t>(level.targets.size());
    nnf.assign(level.size(), -1);
    const uint32_t seed = options.seed, tag = static_cast<uint32_t>(l);
#pragma omp parallel for schedule(static) num_threads(threads_for_pixels(count, 8))
    for (int64_t k = 0; k < count; ++k) {
      const int32_t i = level.targets[k];
      const int x = i % L.w, y = i / L.w;
      const int32_t guess = l == top ? -1 : pm::upsampled_guess(L, coarse_nnf.data(), coarse_w, coarse_h, x, y);
      nnf[i] = pm::start_match(L, guess, fallback[l], seed, tag, x, y);
    }
    std::vector<int32_t> nnf_out(nnf);
    std::vector<uint32_t> weight(level.size(), 0);
    const int radius = l == top ? std::max(L.w, L.h) : options.local_radius;
    if (rounds == 0) {
#pragma omp parallel for schedule(static) num_threads(threads_for_pixels(count, 150))
      for (int64_t k = 0; k < count; ++k) {
        const int32_t i = level.targets[k];
        pm::score_pixel(L, r, nnf.data(), weight.data(), i % L.w, i / L.w);
      }
      vote(level, r, nnf, weight);
    }
    for (int round = 0; round < rounds; ++round) {
      const uint32_t step = tag * 1024u + static_cast<uint32_t>(round);
      const int jump = 2 << (round % 3);
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads_for_pixels(count, 1000))
      for (int64_t k = 0; k < count; ++k) {
        const int32_t i = level.targets[k];
        pm::search_pixel(L, r, nnf.data(), nnf_out.data(), weight.data(), seed, step, jump, radius, i % L.w, i / L.w);
      }
      std::swap(nnf, nnf_out);
      vote(level, r, nnf, weight);
    }
    coarse_nnf.swap(nnf);
    coarse_w = L.w, coarse_h = L.h;
  }
  const LevelData& full = levels.front();  // `base` may have moved as levels grew
  for (const int32_t i : full.holes) std::memcpy(rgb + 3 * static_cast<int64_t>(i), &full.rgb[3 * static_cast<int64_t>(i)], 3);
  return true;
}

}  // namespace interorder
