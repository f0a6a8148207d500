// Per-triangle setup and per-pixel arithmetic of the rasterizer, shared by the CPU and CUDA
// kernels. Every float operation is spelled out (no fused multiply-add on the device, none by
// contraction on the host), so both round alike and give the same bytes.
//
// Coverage: 16 samples per pixel on a 4 x 4 grid. A sample is inside a triangle when it lies on
// the inner side of, or on, each edge. An edge's line function is computed from its two vertices
// in a canonical order (lower mesh index first), so two triangles sharing an edge evaluate the
// same numbers with opposite signs: every sample is covered by one of them (no holes, no cracks).
// An edge marked internal (shared inside one layer) is tested at the pixel centre only: the pair
// of triangles covers every sample either way, and only the silhouette pays for 16 samples.
#pragma once

#include <cmath>
#include <cstdint>

#include "hostdevice.hpp"
#include "raster.hpp"

namespace interorder {

#ifdef __CUDA_ARCH__
INTERORDER_HD float mul_rn(float a, float b) { return __fmul_rn(a, b); }
INTERORDER_HD float add_rn(float a, float b) { return __fadd_rn(a, b); }
INTERORDER_HD float sub_rn(float a, float b) { return __fsub_rn(a, b); }
INTERORDER_HD float div_rn(float a, float b) { return __fdiv_rn(a, b); }
INTERORDER_HD float sqrt_rn(float a) { return __fsqrt_rn(a); }
INTERORDER_HD bool finite_f(float a) { return isfinite(a); }
#else
INTERORDER_HD float mul_rn(float a, float b) { return a * b; }
INTERORDER_HD float add_rn(float a, float b) { return a + b; }
INTERORDER_HD float sub_rn(float a, float b) { return a - b; }
INTERORDER_HD float div_rn(float a, float b) { return a / b; }
INTERORDER_HD float sqrt_rn(float a) { return std::sqrt(a); }
INTERORDER_HD bool finite_f(float a) { return std::isfinite(a); }
#endif

constexpr int kSamples = 16;                 // 4 x 4 coverage samples per pixel
constexpr float kSampleStep = 0.25f;         // their spacing, in pixels
constexpr float kSampleStart = -0.375f;      // offset of the first from the pixel centre
constexpr float kFullMargin = 0.6f;          // > max sample offset along any unit normal (0.53)

// One triangle ready to rasterize: three edge lines a x + b y + c, scaled to unit normals and
// signed so the inside is >= 0; the affine map output pixel -> texture coordinate; its box.
struct TriangleSetup {
  float edge[3][3];
  float map[6];
  int32_t box[4];  // x0, y0, x1, y1 of the covered pixels in the output, exclusive ends
  int32_t valid;
  uint32_t internal;  // bit k: edge k tested at the pixel centre only
};

INTERORDER_HD float line_at(const float* e, float x, float y) {
  return add_rn(add_rn(mul_rn(e[0], x), mul_rn(e[1], y)), e[2]);
}

INTERORDER_HD bool finite2(const float* p) { return finite_f(p[0]) && finite_f(p[1]); }

INTERORDER_HD int32_t clamp_coord(float v, int64_t limit) {
  if (!(v > 0.0f)) return 0;
  if (v >= static_cast<float>(limit)) return static_cast<int32_t>(limit);
  return static_cast<int32_t>(v);
}

// The line through the vertices a < b (mesh indices), with a unit normal.
INTERORDER_HD bool unit_line(const float* pa, const float* pb, float* e) {
  const float dx = sub_rn(pb[0], pa[0]), dy = sub_rn(pb[1], pa[1]);
  const float length = sqrt_rn(add_rn(mul_rn(dx, dx), mul_rn(dy, dy)));
  if (!(length > 0.0f)) return false;
  e[0] = div_rn(-dy, length);
  e[1] = div_rn(dx, length);
  e[2] = -add_rn(mul_rn(e[0], pa[0]), mul_rn(e[1], pa[1]));
  return true;
}

// Solves the affine map taking the three output positions to the three texture positions.
INTERORDER_HD bool solve_map(const float* p[3], const float* s[3], float* m) {
  const float ax = sub_rn(p[1][0], p[0][0]), ay = sub_rn(p[1][1], p[0][1]);
  const float bx = sub_rn(p[2][0], p[0][0]), by = sub_rn(p[2][1], p[0][1]);
  const float det = sub_rn(mul_rn(ax, by), mul_rn(bx, ay));
  if (!(det != 0.0f) || !finite_f(det)) return false;
  for (int c = 0; c < 2; ++c) {
    const float du = sub_rn(s[1][c], s[0][c]), dv = sub_rn(s[2][c], s[0][c]);
    const float gx = div_rn(sub_rn(mul_rn(du, by), mul_rn(dv, ay)), det);
    const float gy = div_rn(sub_rn(mul_rn(dv, ax), mul_rn(du, bx)), det);
    m[3 * c] = gx;
    m[3 * c + 1] = gy;
    m[3 * c + 2] = sub_rn(s[0][c], add_rn(mul_rn(gx, p[0][0]), mul_rn(gy, p[0][1])));
  }
  return true;
}

INTERORDER_HD TriangleSetup setup_triangle(const RasterMesh& mesh, int64_t planes, int64_t t, int64_t out_h,
                                           int64_t out_w) {
  TriangleSetup s{};
  s.valid = 0;
  const int32_t* tri = mesh.triangles + 3 * t;
  if (mesh.planes[t] < 0 || mesh.planes[t] >= planes) return s;
  const float* p[3];
  const float* src[3];
  for (int k = 0; k < 3; ++k) {
    if (tri[k] < 0 || tri[k] >= mesh.vertices) return s;
    p[k] = mesh.target + 2 * static_cast<int64_t>(tri[k]);
    src[k] = mesh.source + 2 * static_cast<int64_t>(tri[k]);
    if (!finite2(p[k]) || !finite2(src[k])) return s;
  }
  if (!finite_f(mesh.depth[t])) return s;
  for (int k = 0; k < 3; ++k) {
    const int i = k, j = (k + 1) % 3, opposite = (k + 2) % 3;
    const bool ordered = tri[i] < tri[j];
    if (!unit_line(ordered ? p[i] : p[j], ordered ? p[j] : p[i], s.edge[k])) return s;
    const float side = line_at(s.edge[k], p[opposite][0], p[opposite][1]);
    if (side == 0.0f) return s;
    if (side < 0.0f) {
      for (int c = 0; c < 3; ++c) s.edge[k][c] = -s.edge[k][c];
    }
  }
  if (!solve_map(p, src, s.map)) return s;
  s.internal = mesh.internal ? mesh.internal[t] & 7u : 0u;
  float x0 = p[0][0], x1 = p[0][0], y0 = p[0][1], y1 = p[0][1];
  for (int k = 1; k < 3; ++k) {
    x0 = fminf(x0, p[k][0]);
    x1 = fmaxf(x1, p[k][0]);
    y0 = fminf(y0, p[k][1]);
    y1 = fmaxf(y1, p[k][1]);
  }
  // Pixels whose samples can be inside: centres within half a pixel of the vertex box.
  s.box[0] = clamp_coord(ceilf(x0 - 0.5f), out_w);
  s.box[1] = clamp_coord(ceilf(y0 - 0.5f), out_h);
  s.box[2] = clamp_coord(floorf(x1 + 0.5f) + 1.0f, out_w);
  s.box[3] = clamp_coord(floorf(y1 + 0.5f) + 1.0f, out_h);
  s.valid = s.box[2] > s.box[0] && s.box[3] > s.box[1];
  return s;
}

// Bit k (row-major over the 4 x 4 grid) set when sample k of pixel (x, y) is inside.
INTERORDER_HD uint32_t coverage(const TriangleSetup& s, int64_t x, int64_t y) {
  const float cx = static_cast<float>(x), cy = static_cast<float>(y);
  bool full = true;
  for (int k = 0; k < 3; ++k) {
    const float d = line_at(s.edge[k], cx, cy);
    if ((s.internal >> k) & 1u) {
      if (d < 0.0f) return 0u;
      continue;
    }
    if (d < -kFullMargin) return 0u;
    full = full && d >= kFullMargin;
  }
  if (full) return (1u << kSamples) - 1u;
  uint32_t bits = 0;
  for (int j = 0; j < 4; ++j) {
    const float sy = add_rn(cy, add_rn(kSampleStart, mul_rn(kSampleStep, static_cast<float>(j))));
    for (int i = 0; i < 4; ++i) {
      const float sx = add_rn(cx, add_rn(kSampleStart, mul_rn(kSampleStep, static_cast<float>(i))));
      bool inside = true;
      for (int k = 0; k < 3 && inside; ++k) {
        inside = ((s.internal >> k) & 1u) || line_at(s.edge[k], sx, sy) >= 0.0f;
      }
      if (inside) bits |= 1u << (4 * j + i);
    }
  }
  return bits;
}

INTERORDER_HD int popcount16(uint32_t v) {
#ifdef __CUDA_ARCH__
  return __popc(v);
#else
  return __builtin_popcount(v);
#endif
}

// min(max(v, lo), hi) for lo <= hi, NaN taken to lo (as fminf(fmaxf(v, lo), hi) does); spelled
// as comparisons, which compile to two instructions where fminf and fmaxf are library calls.
INTERORDER_HD float clamp_f(float v, float lo, float hi) {
  const float above = v > lo ? v : lo;
  return above < hi ? above : hi;
}

// floorf(v) for |v| < 2^31, by truncation (a library call on baseline x86-64, without SSE4.1).
INTERORDER_HD float floor_f(float v) {
  const float t = static_cast<float>(static_cast<int32_t>(v));
  return t > v ? t - 1.0f : t;
}

INTERORDER_HD uint8_t coverage_alpha(uint32_t bits) {
  return static_cast<uint8_t>((popcount16(bits) * 255 + kSamples / 2) / kSamples);
}

INTERORDER_HD int64_t clamp_index(int64_t v, int64_t limit) { return v < 0 ? 0 : (v >= limit ? limit - 1 : v); }

// Bilinear sample of plane `plane` at (u, v), the border replicated; writes 3 bytes.
INTERORDER_HD void sample_bilinear(const Texture& tex, int64_t plane, float u, float v, uint8_t* rgb) {
  const float uc = clamp_f(u, -1.0f, static_cast<float>(tex.w));
  const float vc = clamp_f(v, -1.0f, static_cast<float>(tex.h));
  const float fu = floor_f(uc), fv = floor_f(vc);
  const float ax = sub_rn(uc, fu), ay = sub_rn(vc, fv);
  const int64_t x0 = clamp_index(static_cast<int64_t>(fu), tex.w), x1 = clamp_index(static_cast<int64_t>(fu) + 1, tex.w);
  const int64_t y0 = clamp_index(static_cast<int64_t>(fv), tex.h), y1 = clamp_index(static_cast<int64_t>(fv) + 1, tex.h);
  const uint8_t* base = tex.rgb + plane * tex.h * tex.w * 3;
  const uint8_t* p00 = base + (y0 * tex.w + x0) * 3;
  const uint8_t* p01 = base + (y0 * tex.w + x1) * 3;
  const uint8_t* p10 = base + (y1 * tex.w + x0) * 3;
  const uint8_t* p11 = base + (y1 * tex.w + x1) * 3;
  const float bx = sub_rn(1.0f, ax), by = sub_rn(1.0f, ay);
  for (int c = 0; c < 3; ++c) {
    const float top = add_rn(mul_rn(bx, static_cast<float>(p00[c])), mul_rn(ax, static_cast<float>(p01[c])));
    const float bottom = add_rn(mul_rn(bx, static_cast<float>(p10[c])), mul_rn(ax, static_cast<float>(p11[c])));
    const float value = add_rn(add_rn(mul_rn(by, top), mul_rn(ay, bottom)), 0.5f);
    rgb[c] = static_cast<uint8_t>(clamp_f(value, 0.0f, 255.0f));
  }
}

// Writes pixel p of `out` from its front triangle `t` (or as empty when t < 0).
INTERORDER_HD void shade_pixel(const TriangleSetup* setups, const Texture& tex, const RasterMesh& mesh,
                               const RasterOutput& out, int64_t x, int64_t y, int32_t t, uint32_t bits) {
  const int64_t p = y * out.w + x;
  out.owner[p] = t;
  out.alpha[p] = coverage_alpha(bits);
  if (t < 0) {
    out.rgb[3 * p] = out.rgb[3 * p + 1] = out.rgb[3 * p + 2] = 0;
    out.source_xy[2 * p] = out.source_xy[2 * p + 1] = NAN;
    return;
  }
  const float* m = setups[t].map;
  const float cx = static_cast<float>(x), cy = static_cast<float>(y);
  const float u = add_rn(add_rn(mul_rn(m[0], cx), mul_rn(m[1], cy)), m[2]);
  const float v = add_rn(add_rn(mul_rn(m[3], cx), mul_rn(m[4], cy)), m[5]);
  out.source_xy[2 * p] = u;
  out.source_xy[2 * p + 1] = v;
  sample_bilinear(tex, mesh.planes[t], u, v, out.rgb + 3 * p);
}

}  // namespace interorder
