// Checked FillOptions from Python arguments, shared by the CPU and CUDA fill bindings.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "../core/patchmatch.hpp"

namespace interorder::bind {

inline FillOptions options_from(int patch_size, int iterations, int finest_iterations, int coarsest_side,
                                int local_radius, uint32_t seed) {
  namespace py = pybind11;
  if (patch_size < 3 || patch_size % 2 == 0) {
    throw py::value_error("patch_size must be odd and >= 3, got " + std::to_string(patch_size));
  }
  if (iterations < 1 || finest_iterations < 0) {
    throw py::value_error("iterations must be >= 1 and finest_iterations >= 0");
  }
  if (coarsest_side < 2 * patch_size) throw py::value_error("coarsest_side must be at least 2 * patch_size");
  if (local_radius < 1) throw py::value_error("local_radius must be >= 1");
  return {patch_size, iterations, finest_iterations, coarsest_side, local_radius, seed};
}

}  // namespace interorder::bind
