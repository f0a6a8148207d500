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

// Storage of one pyramid level, and the lists of its target and hole pixels. Its buffers keep
// their capacity from call to call (Workspace): a stream's fills touch no fresh pages.
struct LevelData {
  int h = 0, w = 0;
  std::vector<uint8_t> rgb, hole, source, valid, target, needed;
  std::vector<int32_t> targets, holes;

  void reset(int height, int width) {
    h = height, w = width;
    for (auto* plane : {&hole, &source, &valid, &target, &needed}) plane->resize(size());
    rgb.resize(3 * size());
    targets.clear(), holes.clear();
  }
  size_t size() const { return static_cast<size_t>(h) * static_cast<size_t>(w); }
  pm::Level view() { return {h, w, rgb.data(), hole.data(), source.data(), valid.data(), target.data()}; }
};

// What one fill works in: the pyramid and the per-level fields, kept per calling thread and
// as large as the largest region it filled.
struct Workspace {
  std::vector<LevelData> levels;
  std::vector<int32_t> nnf, nnf_out, coarse_nnf;
  std::vector<uint32_t> weight;
  std::vector<int16_t> runs;  // per-row window counts of classify
};

Workspace& workspace() {
  thread_local Workspace space;
  return space;
}

int threads_for_pixels(int64_t pixels, int64_t cost) { return threads_for(pixels * cost); }

// Counts of the window [x - r, x + r] of one row of the 0 / 1 plane `a` (where `b`, when given, is nonzero).
void row_counts(const uint8_t* __restrict__ a, const uint8_t* __restrict__ b, int w, int r,
                int16_t* __restrict__ out) {
  const auto at = [&](int x) { return b ? a[x] & static_cast<uint8_t>(b[x] != 0) : a[x]; };
  int32_t c = 0;
  for (int x = 0; x < std::min(r, w); ++x) c += at(x);
  for (int x = 0; x < w; ++x) {
    if (x + r < w) c += at(x + r);
    if (x - r - 1 >= 0) c -= at(x - r - 1);
    out[x] = static_cast<int16_t>(c);
  }
}

// Appends the indices of the nonzero pixels of `plane` (n of them at most) to `list`, in order.
void append_nonzero(const uint8_t* __restrict__ plane, int64_t n, std::vector<int32_t>& list) {
  size_t count = list.size();
  list.resize(count + static_cast<size_t>(n));
  int32_t* __restrict__ out = list.data();
  for (int64_t i = 0; i < n; ++i) {
    out[count] = static_cast<int32_t>(i);
    count += plane[i] != 0;
  }
  list.resize(count);
}

// valid / target flags (as pm::classify_pixel) by separable window counts, and the pixel lists;
// with `shown`, also `needed`: the targets whose patch covers a shown hole pixel (as
// pm::covers_shown). Returns the first valid centre, or -1.
int32_t classify(LevelData& level, int r, std::vector<int16_t>& runs, const uint8_t* shown = nullptr) {
  const int h = level.h, w = level.w, side = 2 * r + 1, planes = shown ? 3 : 2;
  const int64_t n = static_cast<int64_t>(level.size());
  runs.resize(static_cast<size_t>(planes) * level.size());
  // per-row counts of the source, hole and shown hole pixels
  int16_t* const run[3] = {runs.data(), runs.data() + n, shown ? runs.data() + 2 * n : nullptr};
  const uint8_t* const hole = level.hole.data();
#pragma omp parallel for schedule(static) num_threads(threads_for_pixels(n, 8))
  for (int y = 0; y < h; ++y) {
    const int64_t row = static_cast<int64_t>(y) * w;
    row_counts(level.source.data() + row, nullptr, w, r, run[0] + row);
    row_counts(hole + row, nullptr, w, r, run[1] + row);
    if (shown) row_counts(hole + row, shown + row, w, r, run[2] + row);
  }
  // Column sums over the rows [y - r, y + r]: each block of rows starts its own and moves it down.
  const int threads = threads_for_pixels(n, 4);
  const int block = (h + threads - 1) / threads;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int b = 0; b < threads; ++b) {
    const int y_begin = b * block, y_end = std::min(h, y_begin + block);
    std::vector<int32_t> sums(static_cast<size_t>(planes) * w, 0);
    const auto add_row = [&](int y, int sign) {
      for (int p = 0; p < planes; ++p) {
        const int16_t* __restrict__ counts = run[p] + static_cast<int64_t>(y) * w;
        int32_t* __restrict__ sum = sums.data() + static_cast<int64_t>(p) * w;
        for (int x = 0; x < w; ++x) sum[x] += sign * counts[x];
      }
    };
    if (y_begin < y_end) {
      for (int y = std::max(0, y_begin - r); y < std::min(h, y_begin + r); ++y) add_row(y, 1);
    }
    for (int y = y_begin; y < y_end; ++y) {
      if (y + r < h) add_row(y + r, 1);
      if (y > y_begin && y - r - 1 >= 0) add_row(y - r - 1, -1);
      const int64_t row = static_cast<int64_t>(y) * w;
      const int32_t* __restrict__ sources = sums.data();
      const int32_t* __restrict__ holes = sums.data() + w;
      uint8_t* __restrict__ valid = level.valid.data() + row;
      uint8_t* __restrict__ target = level.target.data() + row;
      const bool rows_inside = y >= r && y + r < h;
      for (int x = 0; x < w; ++x) {
        valid[x] = rows_inside && x >= r && x + r < w && sources[x] == side * side;
        target[x] = holes[x] > 0;
      }
      if (shown) {
        const int32_t* __restrict__ wanted = sums.data() + 2 * static_cast<int64_t>(w);
        uint8_t* __restrict__ needed = level.needed.data() + row;
        for (int x = 0; x < w; ++x) needed[x] = wanted[x] > 0;
      }
    }
  }
  append_nonzero(level.target.data(), n, level.targets);
  append_nonzero(hole, n, level.holes);
  const uint8_t* valid = std::find(level.valid.data(), level.valid.data() + n, uint8_t{1});
  return valid == level.valid.data() + n ? -1 : static_cast<int32_t>(valid - level.valid.data());
}

void downsample(LevelData& fine, LevelData& coarse) {
  coarse.reset((fine.h + 1) / 2, (fine.w + 1) / 2);
  const pm::Level f = fine.view(), c = coarse.view();
  const int64_t n = static_cast<int64_t>(coarse.size());
#pragma omp parallel for schedule(static) num_threads(threads_for_pixels(n, 16))
  for (int64_t i = 0; i < n; ++i) pm::downsample_pixel(f, c, static_cast<int>(i % c.w), static_cast<int>(i / c.w));
}

// Onion peel from the source pixels inwards: the coarsest level's starting colours. Pixels that
// are neither hole nor source (an instance to avoid) seed nothing and are peeled over too, so no
// instance colour starts the fill or stands as context at that level.
void peel(LevelData& level) {
  const pm::Level L = level.view();
  const int64_t n = static_cast<int64_t>(level.size());
  std::vector<uint8_t> filled(level.size()), filled_out(level.size()), rgb_out(level.rgb.size());
  for (int64_t i = 0; i < n; ++i) filled[i] = level.source[i];
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
// targets whose patches cover one of them (`needed`, from classify).
void keep_shown(LevelData& level, const uint8_t* shown) {
  const auto drop = [](std::vector<int32_t>& pixels, const auto& keep) {
    pixels.erase(std::remove_if(pixels.begin(), pixels.end(), [&](int32_t i) { return !keep(i); }), pixels.end());
  };
  drop(level.targets, [&](int32_t i) { return level.needed[i] != 0; });
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
  const int wanted = fill_levels(h, w, options);
  Workspace& space = workspace();
  if (static_cast<int>(space.levels.size()) < wanted) space.levels.resize(wanted);
  std::vector<LevelData>& levels = space.levels;
  LevelData& base = levels[0];
  base.reset(h, w);
  std::memcpy(base.rgb.data(), rgb, base.rgb.size());
  uint8_t* __restrict__ holes = base.hole.data();
  uint8_t* __restrict__ sources = base.source.data();
  for (size_t i = 0; i < base.size(); ++i) {
    holes[i] = hole[i] != 0;
    sources[i] = source[i] != 0 && hole[i] == 0;
  }
  std::vector<int32_t> fallback{classify(base, r, space.runs, shown)};
  if (fallback[0] < 0) return false;
  if (base.holes.empty()) return true;
  int built = 1;
  while (built < wanted) {
    downsample(levels[built - 1], levels[built]);
    const int32_t first = classify(levels[built], r, space.runs);
    if (first < 0) break;
    fallback.push_back(first);
    ++built;
  }

  std::vector<int32_t>&nnf = space.nnf, &nnf_out = space.nnf_out, &coarse_nnf = space.coarse_nnf;
  std::vector<uint32_t>& weight = space.weight;
  int coarse_w = 0, coarse_h = 0;
  const int top = built - 1;
  for (int l = top; l >= 0; --l) {
    LevelData& level = levels[l];
    const pm::Level L = level.view();
    const int rounds = l == 0 && top > 0 ? options.finest_iterations : std::max(1, options.iterations >> (top - l));
    if (l == top) {
      peel(level);
    } else {
      upsample_colours(level, levels[l + 1]);
    }
    if (l == 0 && rounds == 0 && shown) keep_shown(level, shown);
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
    nnf_out = nnf;
    weight.assign(level.size(), 0);
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
  for (const int32_t i : base.holes) {
    std::memcpy(rgb + 3 * static_cast<int64_t>(i), &base.rgb[3 * static_cast<int64_t>(i)], 3);
  }
  return true;
}

}  // namespace interorder
