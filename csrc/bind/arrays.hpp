// Checks on NumPy arguments that raise TypeError / ValueError naming the problem, so that no
// bad array reaches a kernel.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../core/bits.hpp"
#include "../core/ops.hpp"

namespace interorder::bind {

namespace py = pybind11;

// `obj` as a NumPy array; TypeError naming `name` and the type given otherwise.
py::array as_ndarray(const py::handle& obj, const char* name);

// `obj` as a NumPy array of the given element type, rank and C-contiguity.
template <typename T>
py::array_t<T> require_array(const py::handle& obj, const char* name, int ndim, bool c_contiguous = true) {
  const py::array arr = as_ndarray(obj, name);
  // equivalence, not identity: an unpickled array (one sent between processes) has its own dtype object
  if (!py::isinstance<py::array_t<T, 0>>(arr)) {
    throw py::type_error(std::string(name) + " must have dtype " + std::string(py::str(py::dtype::of<T>())) +
                         ", got " + std::string(py::str(arr.dtype())));
  }
  if (arr.ndim() != ndim) {
    throw py::value_error(std::string(name) + " must have " + std::to_string(ndim) + " dimensions, got " +
                          std::to_string(arr.ndim()));
  }
  if (c_contiguous && !(arr.flags() & py::array::c_style)) {
    throw py::value_error(std::string(name) + " must be C-contiguous");
  }
  return py::reinterpret_borrow<py::array_t<T>>(arr);
}

// A C-contiguous (h, w) plane, or (h, w, channels) when channels > 0, of bool or uint8 bytes;
// the errors say it must be shaped like `like` (e.g. "the canvas").
const uint8_t* byte_plane(const py::handle& obj, const std::string& name, int64_t h, int64_t w, int64_t channels,
                          const char* like);

// A strided (N, H, W) bool or uint8 array as a ByteStack view (no copy).
ByteStack byte_stack(const py::handle& obj, const char* name, std::vector<int64_t>& shape);

// Dimensions of a packed stack (N, H, words) of the given pixel width, checked for consistency.
Dims packed_dims(const py::array_t<uint64_t>& bits, int64_t width);

// Boxes (N, 4) int32 lying inside the frame, checked so the kernels never read past a mask.
py::array_t<int32_t> require_boxes(const py::handle& obj, const Dims& d);

// Mask indices (K,) int64, each in [0, n).
py::array_t<int64_t> require_index(const py::handle& obj, const char* name, int64_t n);

}  // namespace interorder::bind
