// The marching of the Telea fill (telea.hpp), serial per image, on caller-provided scratch.
// Pixels outside the image read as known with a far arrival time, as OpenCV's one-pixel border
// does. It has no CUDA twin: the march takes its pixels one by one from a heap, so a GPU runs it
// on one thread (71 ms a call on an H200); the device path sends its crops to the host for it.
#pragma once

#include <math.h>

#include <cstdint>

namespace interorder::telea {

constexpr uint8_t kKnown = 0;
constexpr uint8_t kBand = 1;
constexpr uint8_t kInside = 2;
constexpr uint8_t kChange = 3;  // reached by the outward march: its time is negated at the end
constexpr float kFar = 1.0e6f;

struct HeapEntry {
  float time;
  uint32_t order;  // insertion order: equal times leave first in, first out (OpenCV's sorted list)
  int32_t pixel;
};

// Min-heap on (time, order) over caller storage of one entry per pixel (a pixel enters at most
// once per march).
struct Heap {
  HeapEntry* items;
  int64_t size = 0;
  uint32_t next = 0;

  static bool before(const HeapEntry& a, const HeapEntry& b) {
    return a.time < b.time || (a.time == b.time && a.order < b.order);
  }
  void push(int32_t pixel, float time) {
    const HeapEntry entry{time, next++, pixel};
    int64_t k = size++;
    while (k > 0) {
      const int64_t parent = (k - 1) / 2;
      if (!before(entry, items[parent])) break;
      items[k] = items[parent];
      k = parent;
    }
    items[k] = entry;
  }
  bool pop(int32_t* pixel) {
    if (size == 0) return false;
    *pixel = items[0].pixel;
    const HeapEntry last = items[--size];
    int64_t k = 0;
    for (int64_t child = 1; child < size; child = 2 * k + 1) {
      if (child + 1 < size && before(items[child + 1], items[child])) ++child;
      if (!before(items[child], last)) break;
      items[k] = items[child];
      k = child;
    }
    items[k] = last;
    return true;
  }
};

// Scratch for an (h, w) image: flags and mark one byte a pixel, time one float, heap one entry.
struct Planes {
  uint8_t* rgb;
  const uint8_t* unknown;
  int h, w;
  uint8_t* flags;
  uint8_t* mark;
  float* time;
  HeapEntry* heap;

  bool inside_image(int y, int x) const { return y >= 0 && x >= 0 && y < h && x < w; }
  uint8_t flag(int y, int x) const { return inside_image(y, x) ? flags[y * w + x] : kKnown; }
  float t(int y, int x) const { return inside_image(y, x) ? time[y * w + x] : kFar; }
  int value(int y, int x, int c) const {
    y = y < 0 ? 0 : (y >= h ? h - 1 : y);
    x = x < 0 ? 0 : (x >= w ? w - 1 : x);
    return rgb[(static_cast<int64_t>(y) * w + x) * 3 + c];
  }
};

// Arrival time from two neighbours, one along each axis (the eikonal update).
float solve(const Planes& p, int y1, int x1, int y2, int x2) {
  const double a = p.t(y1, x1), b = p.t(y2, x2), m = a < b ? a : b;
  const bool ka = p.flag(y1, x1) != kInside, kb = p.flag(y2, x2) != kInside;
  double sol;
  if (ka && kb) {
    sol = fabs(a - b) >= 1.0 ? 1 + m : (a + b + sqrt(2 - (a - b) * (a - b))) * 0.5;
  } else if (ka) {
    sol = 1 + a;
  } else if (kb) {
    sol = 1 + b;
  } else {
    sol = 1 + m;
  }
  return static_cast<float>(sol);
}

float arrival(const Planes& p, int y, int x) {
  const float a = solve(p, y - 1, x, y, x - 1), b = solve(p, y + 1, x, y, x - 1);
  const float c = solve(p, y - 1, x, y, x + 1), d = solve(p, y + 1, x, y, x + 1);
  const float ab = a < b ? a : b, cd = c < d ? c : d;
  return ab < cd ? ab : cd;
}

// One-sided or central difference of `get` along an axis, by which neighbours are not inside.
template <typename Get>
float difference(bool next_known, bool prev_known, float central_scale, Get get) {
  if (next_known) return prev_known ? (get(1) - get(-1)) * central_scale : get(1) - get(0);
  return prev_known ? get(0) - get(-1) : 0.0f;
}

// The gradient at the channel byte `q` of a pixel one or more pixels from every edge (rows
// `stride` bytes apart): image_gradient's common case.
void inner_gradient(const uint8_t* q, int64_t stride, bool right, bool left, bool down, bool up,
                                  float* gx, float* gy) {
  const int e = q[3], wst = q[-3], s = q[stride], n = q[-stride], mid = q[0];
  *gx = right ? (left ? static_cast<float>(e - wst) * 2.0f : static_cast<float>(e - mid))
              : (left ? static_cast<float>(mid - wst) : 0.0f);
  *gy = down ? (up ? static_cast<float>(s - n) * 2.0f : static_cast<float>(s - mid))
             : (up ? static_cast<float>(mid - n) : 0.0f);
}

// OpenCV's image gradient at the known pixel (k, l), channel c, from the neighbours that are
// not inside (`right`, `left`, `down`, `up`). OpenCV reads the rows and columns next to the
// image's edge one pixel inwards and doubles its central difference; both are kept.
void image_gradient(const Planes& p, int k, int l, int c, bool right, bool left, bool down, bool up,
                                  float* gx, float* gy) {
  if (k > 0 && l > 0 && k < p.h - 1 && l < p.w - 1) {  // the common case: no edge to mind
    const uint8_t* q = p.rgb + (static_cast<int64_t>(k) * p.w + l) * 3 + c;
    inner_gradient(q, static_cast<int64_t>(p.w) * 3, right, left, down, up, gx, gy);
    return;
  }
  const int row = k + (k == 0), col = l + (l == 0);
  const int col_hi = l - (l == p.w - 1), row_hi = k - (k == p.h - 1);
  if (right) {
    *gx = left ? static_cast<float>(p.value(row, col_hi + 1, c) - p.value(row, col - 1, c)) * 2.0f
               : static_cast<float>(p.value(row, col_hi + 1, c) - p.value(row, col, c));
  } else {
    *gx = left ? static_cast<float>(p.value(row, col_hi, c) - p.value(row, col - 1, c)) : 0.0f;
  }
  if (down) {
    *gy = up ? static_cast<float>(p.value(row_hi + 1, col, c) - p.value(row - 1, col, c)) * 2.0f
             : static_cast<float>(p.value(row_hi + 1, col, c) - p.value(row, col, c));
  } else {
    *gy = up ? static_cast<float>(p.value(row_hi, col, c) - p.value(row - 1, col, c)) : 0.0f;
  }
}

// 1 / |r|^3 of the offset r, as OpenCV computes it.
float inverse_cube(int ry, int rx) {
  const float length2 = static_cast<float>(rx * rx + ry * ry);
  return static_cast<float>(1.0 / (length2 * sqrt(static_cast<double>(length2))));
}

// Adds the known pixel (k, l), offset (ry, rx) from the pixel being painted, to its estimate with
// `weight`: colour, and the gradient term. `Interior`: (k, l) is at least one pixel from every
// image edge, so neighbours are read without bounds checks (the same bytes: the common case).
template <bool Interior>
void add_known(const Planes& p, int k, int l, float ry, float rx, float weight, float* ia, float* jx,
                             float* jy, float* s) {
  const int64_t i = static_cast<int64_t>(k) * p.w + l;
  bool kr, kl, kd, ku;
  if (Interior) {
    const uint8_t* f = p.flags + i;
    kr = f[1] != kInside, kl = f[-1] != kInside, kd = f[p.w] != kInside, ku = f[-p.w] != kInside;
  } else {
    kr = p.flag(k, l + 1) != kInside, kl = p.flag(k, l - 1) != kInside;
    kd = p.flag(k + 1, l) != kInside, ku = p.flag(k - 1, l) != kInside;
  }
  const uint8_t* here = p.rgb + i * 3;
  for (int c = 0; c < 3; ++c) {
    float gx, gy;
    if (Interior) {
      inner_gradient(here + c, static_cast<int64_t>(p.w) * 3, kr, kl, kd, ku, &gx, &gy);
    } else {
      image_gradient(p, k, l, c, kr, kl, kd, ku, &gx, &gy);
    }
    ia[c] += weight * static_cast<float>(here[c]);
    jx[c] -= weight * (gx * rx);
    jy[c] -= weight * (gy * ry);
    s[c] += weight;
  }
}

// The colour of the newly reached pixel (y, x): OpenCV's weighted first-order estimate.
// `dst` holds inverse_cube of each offset of the (2 radius + 1)^2 window, row by row.
void paint(const Planes& p, int y, int x, int radius, const float* dst) {
  const float ty = p.t(y, x);
  const bool right = p.flag(y, x + 1) != kInside, left = p.flag(y, x - 1) != kInside;
  const bool down = p.flag(y + 1, x) != kInside, up = p.flag(y - 1, x) != kInside;
  const float gtx = difference(right, left, 0.5f, [&](int d) { return d == 0 ? ty : p.t(y, x + d); });
  const float gty = difference(down, up, 0.5f, [&](int d) { return d == 0 ? ty : p.t(y + d, x); });
  float ia[3] = {0, 0, 0}, jx[3] = {0, 0, 0}, jy[3] = {0, 0, 0}, s[3] = {1.0e-20f, 1.0e-20f, 1.0e-20f};
  const int side = 2 * radius + 1;
  const bool interior = y - radius > 0 && x - radius > 0 && y + radius < p.h - 1 && x + radius < p.w - 1;
  for (int k = y - radius; k <= y + radius; ++k) {
    if (k < 0 || k >= p.h) continue;
    int span = 0;  // the disc's half-width on this row: |l - x| <= span
    while ((span + 1) * (span + 1) + (k - y) * (k - y) <= radius * radius) ++span;
    const int l1 = x + span < p.w - 1 ? x + span : p.w - 1;
    for (int l = x - span < 0 ? 0 : x - span; l <= l1; ++l) {
      const int i = k * p.w + l;
      if (p.flags[i] == kInside) continue;
      const float ry = static_cast<float>(y - k), rx = static_cast<float>(x - l);
      const float lev = static_cast<float>(1.0 / (1 + fabs(static_cast<double>(p.time[i] - ty))));
      float dir = rx * gtx + ry * gty;
      if (fabs(dir) <= 0.01) dir = 0.000001f;
      const float weight = fabsf(dst[(k - y + radius) * side + (l - x + radius)] * lev * dir);
      if (interior) {
        add_known<true>(p, k, l, ry, rx, weight, ia, jx, jy, s);
      } else {
        add_known<false>(p, k, l, ry, rx, weight, ia, jx, jy, s);
      }
    }
  }
  uint8_t* out = p.rgb + (static_cast<int64_t>(y) * p.w + x) * 3;
  for (int c = 0; c < 3; ++c) {
    const float sat = ia[c] / s[c] + (jx[c] + jy[c]) / (sqrtf(jx[c] * jx[c] + jy[c] * jy[c]) + 1.0e-20f);
    const double rounded = rint(static_cast<double>(sat) + 0.5);
    out[c] = static_cast<uint8_t>(rounded < 0 ? 0 : (rounded > 255 ? 255 : rounded));
  }
}

// Marks in `p.mark` the pixels within `radius` (Chebyshev) of an unknown pixel: a separable
// sliding count, rows into `p.flags`, then columns.
void dilate_unknown(const Planes& p, int radius) {
  for (int y = 0; y < p.h; ++y) {
    const uint8_t* row = p.unknown + static_cast<int64_t>(y) * p.w;
    int count = 0;
    for (int x = 0; x <= radius && x < p.w; ++x) count += row[x] != 0;
    for (int x = 0; x < p.w; ++x) {
      p.flags[y * p.w + x] = count > 0;
      if (x - radius >= 0) count -= row[x - radius] != 0;
      if (x + radius + 1 < p.w) count += row[x + radius + 1] != 0;
    }
  }
  for (int x = 0; x < p.w; ++x) {
    int count = 0;
    for (int y = 0; y <= radius && y < p.h; ++y) count += p.flags[y * p.w + x];
    for (int y = 0; y < p.h; ++y) {
      p.mark[y * p.w + x] = count > 0;
      if (y - radius >= 0) count -= p.flags[(y - radius) * p.w + x];
      if (y + radius + 1 < p.h) count += p.flags[(y + radius + 1) * p.w + x];
    }
  }
}

bool in_band(const Planes& p, int y, int x) {
  if (p.unknown[y * p.w + x]) return false;
  const auto hole = [&](int yy, int xx) { return p.inside_image(yy, xx) && p.unknown[yy * p.w + xx] != 0; };
  return hole(y - 1, x) || hole(y, x - 1) || hole(y, x + 1) || hole(y + 1, x);
}

// Pops the front until it is empty: a popped pixel becomes `settled`; each inside neighbour gets
// its arrival time (and its colour, given the `dst` table), joins the band and the front.
void march(const Planes& p, Heap& heap, uint8_t settled, int radius, const float* dst) {
  const int dy[4] = {-1, 0, 1, 0}, dx[4] = {0, -1, 0, 1};
  int32_t at;
  while (heap.pop(&at)) {
    p.flags[at] = settled;
    const int yy = at / p.w, xx = at % p.w;
    for (int q = 0; q < 4; ++q) {
      const int y = yy + dy[q], x = xx + dx[q];
      if (!p.inside_image(y, x) || p.flags[y * p.w + x] != kInside) continue;
      const float dist = arrival(p, y, x);
      p.time[y * p.w + x] = dist;
      if (dst != nullptr) paint(p, y, x, radius, dst);
      p.flags[y * p.w + x] = kBand;
      heap.push(y * p.w + x, dist);
    }
  }
}

// The whole fill of one image (telea.hpp); `dst` has room for (2 radius + 1)^2 floats.
void inpaint(const Planes& p, int radius, float* dst) {
  const int side = 2 * radius + 1;
  for (int k = 0; k < side; ++k) {
    for (int l = 0; l < side; ++l) dst[k * side + l] = inverse_cube(k - radius, l - radius);
  }
  const int n = p.h * p.w;
  Heap heap{p.heap};
  // Outward march over the known ring within `radius` of the hole: negative times there.
  dilate_unknown(p, radius);
  for (int i = 0; i < n; ++i) p.time[i] = kFar;
  for (int y = 0; y < p.h; ++y) {
    for (int x = 0; x < p.w; ++x) {
      const int i = y * p.w + x;
      const bool band = in_band(p, y, x);
      if (band) {
        p.time[i] = 0.0f;
        heap.push(i, 0.0f);
      }
      p.flags[i] = (p.mark[i] && !p.unknown[i] && !band) ? kInside : kKnown;
    }
  }
  march(p, heap, kChange, radius, nullptr);
  for (int i = 0; i < n; ++i) {
    if (p.flags[i] == kChange) p.time[i] = -p.time[i];
  }
  // Inward march over the hole, painting each pixel as the front reaches it.
  heap = Heap{p.heap};
  for (int y = 0; y < p.h; ++y) {
    for (int x = 0; x < p.w; ++x) {
      const int i = y * p.w + x;
      p.flags[i] = p.unknown[i] ? kInside : kKnown;
      if (in_band(p, y, x)) heap.push(i, 0.0f);
    }
  }
  march(p, heap, kKnown, radius, dst);
}

int clamp_radius(int radius) { return radius < 1 ? 1 : (radius > 100 ? 100 : radius); }

}  // namespace interorder::telea
