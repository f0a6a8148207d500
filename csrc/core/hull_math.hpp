// Convex hull of a mask's pixel centres and its row-by-row fill, in exact integer arithmetic.
// Shared by the CPU and CUDA kernels so both follow reference.convex_hull_masks bit for bit.
#pragma once

#include <cstdint>

#include "hostdevice.hpp"

namespace interorder {

struct Point {
  int64_t x;
  int64_t y;
};

// z of (a - o) x (b - o): > 0 when o -> a -> b turns counter-clockwise (x right, y up).
INTERORDER_HD int64_t turn(const Point& o, const Point& a, const Point& b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// Hull of `count` distinct points sorted by (y, x), written counter-clockwise into `hull`
// (capacity 2 * count) without collinear vertices; returns the vertex count. The hull of a
// mask equals the hull of its row extremes, which come sorted by (y, x) for free: Andrew's
// monotone chain swept along y instead of x (so turns flip sign), then reversed.
INTERORDER_HD int64_t monotone_hull(const Point* pts, int64_t count, Point* hull) {
  if (count <= 2) {
    for (int64_t i = 0; i < count; ++i) hull[i] = pts[i];
    return count;
  }
  int64_t k = 0;
  for (int64_t i = 0; i < count; ++i) {
    while (k >= 2 && turn(hull[k - 2], hull[k - 1], pts[i]) >= 0) --k;
    hull[k++] = pts[i];
  }
  for (int64_t i = count - 2, lower = k + 1; i >= 0; --i) {
    while (k >= lower && turn(hull[k - 2], hull[k - 1], pts[i]) >= 0) --k;
    hull[k++] = pts[i];
  }
  --k;  // the chain ends where it started
  for (int64_t i = 0, j = k - 1; i < j; ++i, --j) {
    const Point t = hull[i];
    hull[i] = hull[j];
    hull[j] = t;
  }
  return k;
}

INTERORDER_HD int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

INTERORDER_HD int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Columns [lo, hi] of row y inside the hull (boundary included), clipped to the box columns
// [x0, x1); false when none. A hull of one or two vertices is a point or a segment.
INTERORDER_HD bool hull_row_span(const Point* hull, int64_t m, int64_t y, int64_t x0, int64_t x1, int64_t* lo,
                                 int64_t* hi) {
  int64_t a = x0, b = x1 - 1;
  if (m <= 2) {
    const Point p = hull[0], q = hull[m - 1];
    const int64_t dx = q.x - p.x, dy = q.y - p.y, c = dx * (y - p.y);
    if (dy == 0) {
      if (c != 0) return false;
    } else {
      if (c % dy != 0) return false;
      a = b = p.x + c / dy;
    }
  } else {
    for (int64_t i = 0; i < m; ++i) {
      const Point p = hull[i], q = hull[i + 1 == m ? 0 : i + 1];
      const int64_t dx = q.x - p.x, dy = q.y - p.y, c = dx * (y - p.y);
      // inside: dx * (y - p.y) - dy * (x - p.x) >= 0, i.e. dy * (x - p.x) <= c
      if (dy > 0) {
        const int64_t bound = p.x + floor_div(c, dy);
        if (bound < b) b = bound;
      } else if (dy < 0) {
        const int64_t bound = p.x + ceil_div(c, dy);
        if (bound > a) a = bound;
      } else if (c < 0) {
        return false;
      }
    }
  }
  if (a < x0) a = x0;
  if (b > x1 - 1) b = x1 - 1;
  *lo = a;
  *hi = b;
  return a <= b;
}

}  // namespace interorder
