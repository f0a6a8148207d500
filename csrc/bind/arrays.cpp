#include "arrays.hpp"

#include <limits>

namespace interorder::bind {

py::array as_ndarray(const py::handle& obj, const char* name) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + " must be a numpy.ndarray, got " + Py_TYPE(obj.ptr())->tp_name);
  }
  return py::reinterpret_borrow<py::array>(obj);
}

const uint8_t* byte_plane(const py::handle& obj, const std::string& name, int64_t h, int64_t w, int64_t channels,
                          const char* like) {
  const py::array arr = as_ndarray(obj, name.c_str());
  const py::dtype dt = arr.dtype();
  if (!(dt.itemsize() == 1 && (dt.kind() == 'b' || dt.kind() == 'u'))) {
    throw py::type_error(name + " must have dtype bool or uint8, got " + std::string(py::str(dt)));
  }
  const bool planes = channels > 0;
  if (arr.ndim() != (planes ? 3 : 2) || arr.shape(0) != h || arr.shape(1) != w ||
      (planes && arr.shape(2) != channels)) {
    throw py::value_error(name + " must have shape (" + std::to_string(h) + ", " + std::to_string(w) +
                          (planes ? ", " + std::to_string(channels) : std::string()) + ") like " + like);
  }
  if (!(arr.flags() & py::array::c_style)) throw py::value_error(name + " must be C-contiguous");
  return static_cast<const uint8_t*>(arr.data());
}

ByteStack byte_stack(const py::handle& obj, const char* name, std::vector<int64_t>& shape) {
  const py::array arr = as_ndarray(obj, name);
  const py::dtype dt = arr.dtype();
  const bool one_byte = dt.itemsize() == 1 && (dt.kind() == 'b' || dt.kind() == 'u');
  if (!one_byte) {
    throw py::type_error(std::string(name) + " must have dtype bool or uint8, got " + std::string(py::str(dt)));
  }
  if (arr.ndim() != 3) {
    throw py::value_error(std::string(name) + " must have shape (N, H, W), got " + std::to_string(arr.ndim()) +
                          " dimensions");
  }
  const int64_t limit = std::numeric_limits<int32_t>::max();
  if (arr.shape(1) > limit || arr.shape(2) > limit) {
    throw py::value_error(std::string(name) + ": height and width must be below 2**31");
  }
  shape = {static_cast<int64_t>(arr.shape(0)), static_cast<int64_t>(arr.shape(1)), static_cast<int64_t>(arr.shape(2))};
  return {static_cast<const uint8_t*>(arr.data()), static_cast<int64_t>(arr.strides(0)),
          static_cast<int64_t>(arr.strides(1)), static_cast<int64_t>(arr.strides(2))};
}

Dims packed_dims(const py::array_t<uint64_t>& bits, int64_t width) {
  if (width < 0 || width > std::numeric_limits<int32_t>::max()) {
    throw py::value_error("width must be in [0, 2**31), got " + std::to_string(width));
  }
  Dims d{static_cast<int64_t>(bits.shape(0)), static_cast<int64_t>(bits.shape(1)), width, words_for_width(width)};
  if (bits.shape(2) != d.words) {
    throw py::value_error("packed bits have " + std::to_string(bits.shape(2)) + " words per row, width " +
                          std::to_string(width) + " needs " + std::to_string(d.words));
  }
  return d;
}

py::array_t<int32_t> require_boxes(const py::handle& obj, const Dims& d) {
  auto boxes = require_array<int32_t>(obj, "boxes", 2);
  if (boxes.shape(0) != d.n || boxes.shape(1) != 4) {
    throw py::value_error("boxes must have shape (" + std::to_string(d.n) + ", 4)");
  }
  auto b = boxes.unchecked<2>();
  for (int64_t i = 0; i < d.n; ++i) {
    const bool inside = 0 <= b(i, 0) && b(i, 0) <= b(i, 2) && b(i, 2) <= d.w && 0 <= b(i, 1) && b(i, 1) <= b(i, 3) &&
                        b(i, 3) <= d.h;
    if (!inside) throw py::value_error("box " + std::to_string(i) + " lies outside the frame");
  }
  return boxes;
}

py::array_t<int64_t> require_index(const py::handle& obj, const char* name, int64_t n) {
  auto index = require_array<int64_t>(obj, name, 1);
  auto v = index.unchecked<1>();
  for (py::ssize_t k = 0; k < v.shape(0); ++k) {
    if (v(k) < 0 || v(k) >= n) {
      throw py::value_error(std::string(name) + ": mask index " + std::to_string(v(k)) + " out of range for " +
                            std::to_string(n) + " masks");
    }
  }
  return index;
}

}  // namespace interorder::bind
