// Per-pixel compositing shared by the CPU kernel and its CUDA twin (composite.hpp). The blend is
// NumPy's float32 arithmetic step by step, without fused multiply-adds, so both match the
// package's NumPy reference (compose/painter.py, paint_reference) byte for byte.
#pragma once

#include <cstdint>

#include "composite.hpp"
#include "hostdevice.hpp"
#include "raster_math.hpp"  // mul_rn, add_rn, sub_rn, div_rn: IEEE float steps on both sides

namespace interorder {

// `below` blended with `above` at coverage a in [0, 1]: trunc(above * a + below * (1 - a) + 0.5).
INTERORDER_HD uint8_t blend_channel(uint8_t above, uint8_t below, float a) {
  const float mixed = add_rn(mul_rn(static_cast<float>(above), a), mul_rn(static_cast<float>(below), sub_rn(1.0f, a)));
  return static_cast<uint8_t>(add_rn(mixed, 0.5f));
}

// Paints pixel p (row-major index) of layer k onto the canvas.
INTERORDER_HD void paint_pixel(const PaintLayer& layer, int32_t k, int64_t p, const Canvas& canvas) {
  const uint8_t* src = layer.rgb + 3 * p;
  uint8_t* dst = canvas.rgb + 3 * p;
  if (layer.alpha == nullptr) {
    if (!layer.mask[p]) return;
    dst[0] = src[0];
    dst[1] = src[1];
    dst[2] = src[2];
  } else {
    const uint8_t coverage = layer.alpha[p];
    if (coverage == 0) return;
    const float a = div_rn(static_cast<float>(coverage), 255.0f);
    for (int c = 0; c < 3; ++c) dst[c] = blend_channel(src[c], dst[c], a);
  }
  if (canvas.owner != nullptr) canvas.owner[p] = k;
}

// The layer's box clipped to the canvas, as (x0, y0, x1, y1); empty when x1 <= x0 or y1 <= y0.
INTERORDER_HD void clipped_box(const PaintLayer& layer, const Canvas& canvas, int64_t box[4]) {
  box[0] = layer.x0 < 0 ? 0 : layer.x0;
  box[1] = layer.y0 < 0 ? 0 : layer.y0;
  box[2] = layer.x1 > canvas.w ? canvas.w : layer.x1;
  box[3] = layer.y1 > canvas.h ? canvas.h : layer.y1;
}

}  // namespace interorder
