// The outline a loose mask misses (interorder_rt/compose/outline.py): the background pixels
// within `reach` of a region, joined to it through such pixels, whose colour is foreign to the
// background ring 2 to 3 reaches out. The CPU kernel (outline.cpp) and its CUDA twin
// (cuda/outline.cu) share outline_math.hpp: integer window sums and the same double arithmetic,
// so both give the pixels of the NumPy reference.
#pragma once

#include <cstdint>

namespace interorder {

// Every plane is (h, w) C order, a window of the frame; a mask pixel is set when nonzero.
struct OutlineInput {
  const uint8_t* rgb = nullptr;         // (h, w, 3)
  const uint8_t* region = nullptr;      // the removed person's grown region
  const uint8_t* background = nullptr;  // the pixels the outline may take (no instance, not the region)
  int64_t h = 0;
  int64_t w = 0;
  int reach = 0;        // the margin: how far beyond the region the outline reaches (< 1: nowhere)
  double sigmas = 0.0;  // foreign beyond this many standard deviations of the ring's colours ...
  double levels = 0.0;  // ... plus this many grey levels
};

// Sets `out` (h, w) to 1 where a pixel joins the region, 0 elsewhere.
void foreign_outline(const OutlineInput& in, uint8_t* out);

}  // namespace interorder
