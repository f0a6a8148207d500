// Back-to-front painting of RGB layers over a canvas: the compositing step of every merge
// (interorder_rt/compose/painter.py). The CPU kernel (composite.cpp) and its CUDA twin
// (cuda/composite.cu) share the per-pixel arithmetic of composite_math.hpp and give the same bytes.
#pragma once

#include <cstdint>

namespace interorder {

// One layer over an (h, w) canvas; every plane is (h, w[, 3]) C order, like the canvas.
// Without `alpha` the layer covers its `mask` pixels with its `rgb`. With `alpha` (coverage,
// 0..255) it blends `rgb` over the canvas wherever alpha > 0 and `mask` is not read.
// Only pixels inside the box [x0, x1) x [y0, y1) are painted (clipped to the canvas).
struct PaintLayer {
  const uint8_t* rgb = nullptr;
  const uint8_t* mask = nullptr;   // nonzero: covered
  const uint8_t* alpha = nullptr;  // may be null
  int64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// The canvas, painted in place: rgb (h, w, 3) uint8, owner (h, w) int32 set to the index of the
// layer each covered pixel now shows (untouched elsewhere); a null owner keeps no such map.
struct Canvas {
  uint8_t* rgb = nullptr;
  int32_t* owner = nullptr;  // may be null
  int64_t h = 0;
  int64_t w = 0;
};

// Paints `count` layers back to front (layer 0 first), one pass over each layer's box.
void paint_layers(const PaintLayer* layers, int64_t count, const Canvas& canvas);

}  // namespace interorder
