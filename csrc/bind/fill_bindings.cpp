// Python binding of the CPU PatchMatch fill: NumPy in, a new NumPy image out, the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <string>

#include "../core/patchmatch.hpp"
#include "arrays.hpp"
#include "bindings.hpp"
#include "fill_options.hpp"

namespace interorder::bind {
namespace {

// A C-contiguous (h, w) bool or uint8 plane; nonzero is set.
const uint8_t* plane(const py::handle& obj, const char* name, py::ssize_t h, py::ssize_t w) {
  const py::array arr = as_ndarray(obj, name);
  const py::dtype dt = arr.dtype();
  if (!(dt.itemsize() == 1 && (dt.kind() == 'b' || dt.kind() == 'u'))) {
    throw py::type_error(std::string(name) + " must have dtype bool or uint8, got " + std::string(py::str(dt)));
  }
  if (arr.ndim() != 2 || arr.shape(0) != h || arr.shape(1) != w) {
    throw py::value_error(std::string(name) + " must have shape (" + std::to_string(h) + ", " + std::to_string(w) +
                          ") like the image");
  }
  if (!(arr.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
  return static_cast<const uint8_t*>(arr.data());
}

py::object fill(const py::handle& image_obj, const py::handle& hole_obj, const py::handle& source_obj, int patch_size,
                int iterations, int finest_iterations, int coarsest_side, int local_radius, uint32_t seed,
                const py::handle& shown_obj) {
  const auto image = require_array<uint8_t>(image_obj, "image", 3);
  if (image.shape(2) != 3) throw py::value_error("image must have shape (H, W, 3)");
  const py::ssize_t h = image.shape(0), w = image.shape(1);
  if (h > (1 << 15) || w > (1 << 15)) throw py::value_error("the fill region must be below 32768 pixels a side");
  const uint8_t* hole = plane(hole_obj, "hole", h, w);
  const uint8_t* source = plane(source_obj, "source", h, w);
  const uint8_t* shown = shown_obj.is_none() ? nullptr : plane(shown_obj, "shown", h, w);
  const FillOptions options = options_from(patch_size, iterations, finest_iterations, coarsest_side, local_radius, seed);
  py::array_t<uint8_t> out({h, w, py::ssize_t{3}});
  std::memcpy(out.mutable_data(), image.data(), static_cast<size_t>(h * w * 3));
  bool filled = true;
  if (h > 0 && w > 0) {
    py::gil_scoped_release release;
    filled = patchmatch_fill(out.mutable_data(), hole, source, static_cast<int>(h), static_cast<int>(w), options, shown);
  }
  return filled ? py::object(out) : py::object(py::none());
}

}  // namespace

void register_fill(py::module_& m) {
  m.def("patchmatch_fill", &fill, py::arg("image"), py::arg("hole"), py::arg("source"), py::arg("patch_size") = 7,
        py::arg("iterations") = 6, py::arg("finest_iterations") = 0, py::arg("coarsest_side") = 40,
        py::arg("local_radius") = 8, py::arg("seed") = 0, py::arg("shown") = py::none(),
        "Exemplar (PatchMatch) fill of the hole pixels of an (H, W, 3) uint8 image from patches lying wholly in "
        "`source`; a new image, or None when no such patch exists. `shown` (optional (H, W) plane): the hole "
        "pixels whose fill is seen; the others keep their colours, and the full-size level does only what the "
        "shown ones need (the same pixels there as without it, when finest_iterations is 0).");
  m.def(
      "fill_levels",
      [](int h, int w, int patch_size, int coarsest_side) {
        return fill_levels(h, w, options_from(patch_size, 1, 1, coarsest_side, 1, 0));
      },
      py::arg("height"), py::arg("width"), py::arg("patch_size") = 7, py::arg("coarsest_side") = 40,
      "Pyramid levels the fill uses for a region of that size.");
}

}  // namespace interorder::bind
