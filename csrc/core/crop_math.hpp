// Source coordinate of a nearest-neighbour crop sample, shared by the CPU and CUDA kernels.
// reference.crop_resize computes floor(x0 + (u + 0.5) * ((x1 - x0) / size)) in float64 with a
// separately rounded multiply and add; a fused multiply-add would change the last bit, so the
// device path spells out the rounding and the host build disables contraction.
#pragma once

#include <cmath>
#include <cstdint>

#include "hostdevice.hpp"

namespace interorder {

// Pixel index sampled by output cell u, or -1 when it falls outside [0, limit).
INTERORDER_HD int64_t crop_source(double start, double step, int64_t u, int64_t limit) {
  const double centre = static_cast<double>(u) + 0.5;
#ifdef __CUDA_ARCH__
  const double v = floor(__dadd_rn(start, __dmul_rn(centre, step)));
#else
  const double v = std::floor(start + centre * step);
#endif
  return (v >= 0.0 && v < static_cast<double>(limit)) ? static_cast<int64_t>(v) : -1;
}

}  // namespace interorder
