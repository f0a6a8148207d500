// Python binding of the CPU Telea fill (core/telea.hpp): a NumPy image filled in place, the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "../core/telea.hpp"
#include "arrays.hpp"
#include "bindings.hpp"

namespace interorder::bind {
namespace {

void inpaint(const py::handle& image_obj, const py::handle& unknown_obj, int radius) {
  auto image = require_array<uint8_t>(image_obj, "image", 3);
  if (image.shape(2) != 3) throw py::value_error("image must have shape (H, W, 3)");
  if (!image.writeable()) throw py::value_error("image must be writeable (it is filled in place)");
  const py::ssize_t h = image.shape(0), w = image.shape(1);
  if (h * w >= (py::ssize_t{1} << 31)) throw py::value_error("image must hold fewer than 2**31 pixels");
  const py::array unknown = as_ndarray(unknown_obj, "unknown");
  const py::dtype dt = unknown.dtype();
  if (!(dt.itemsize() == 1 && (dt.kind() == 'b' || dt.kind() == 'u'))) {
    throw py::type_error("unknown must have dtype bool or uint8, got " + std::string(py::str(dt)));
  }
  if (unknown.ndim() != 2 || unknown.shape(0) != h || unknown.shape(1) != w) {
    throw py::value_error("unknown must have shape (" + std::to_string(h) + ", " + std::to_string(w) + ") like the image");
  }
  if (!(unknown.flags() & py::array::c_style)) throw py::value_error("unknown must be C-contiguous");
  uint8_t* rgb = image.mutable_data();
  const auto* mask = static_cast<const uint8_t*>(unknown.data());
  py::gil_scoped_release release;
  telea_inpaint(rgb, mask, static_cast<int>(h), static_cast<int>(w), radius);
}

}  // namespace

void register_telea(py::module_& m) {
  m.def("telea_inpaint", &inpaint, py::arg("image"), py::arg("unknown"), py::arg("radius") = 3,
        "Telea fill of the unknown pixels of an (H, W, 3) uint8 image in place, the bytes of "
        "cv2.inpaint(image, unknown, radius, cv2.INPAINT_TELEA); unknown is (H, W) bool or uint8.");
}

}  // namespace interorder::bind
