// Telea's fast-marching inpainting (A. Telea, "An Image Inpainting Technique Based on the Fast
// Marching Method", 2004) as OpenCV's cv::inpaint(..., INPAINT_TELEA) computes it: the same
// marching order, arrival times, weights and rounding, so the filled bytes agree with OpenCV's.
// It fills the classical base that MNet corrects (interorder_rt/completion.py). OpenCV keeps its
// front in a sorted list (a cost that grows with the front); here it is a binary heap, so a fill
// costs the unknown pixels times the neighbourhood. The CPU kernel (telea.cpp) and its CUDA twin
// (cuda/telea.cu) share the marching of telea_math.hpp.
#pragma once

#include <cstdint>

namespace interorder {

// Fills the `unknown` pixels (nonzero) of the (h, w, 3) uint8 image `rgb` in place from the known
// ones, with OpenCV's neighbourhood `radius` (rounded, clamped to [1, 100]). Unknown pixels no
// known pixel reaches (an image with nothing known) are left as they are.
void telea_inpaint(uint8_t* rgb, const uint8_t* unknown, int h, int w, int radius);

}  // namespace interorder
