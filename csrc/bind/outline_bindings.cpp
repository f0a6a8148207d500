// Python binding of the CPU outline kernel (core/outline.hpp): NumPy planes in, a new bool plane out.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "../core/outline.hpp"
#include "arrays.hpp"
#include "bindings.hpp"

namespace interorder::bind {
namespace {

constexpr int kMaxReach = 4096;  // the ring's row sums of squares stay within int32

py::array_t<bool> outline(const py::handle& image_obj, const py::handle& region_obj, const py::handle& background_obj,
                          int reach, double sigmas, double levels) {
  const auto image = require_array<uint8_t>(image_obj, "image", 3);
  if (image.shape(2) != 3) throw py::value_error("image must have shape (H, W, 3)");
  const int64_t h = image.shape(0), w = image.shape(1);
  if (reach > kMaxReach) throw py::value_error("reach must be at most " + std::to_string(kMaxReach));
  OutlineInput in;
  in.rgb = image.data();
  in.region = byte_plane(region_obj, "region", h, w, 0, "the image");
  in.background = byte_plane(background_obj, "background", h, w, 0, "the image");
  in.h = h;
  in.w = w;
  in.reach = reach;
  in.sigmas = sigmas;
  in.levels = levels;
  py::array_t<bool> out({h, w});
  auto* bytes = reinterpret_cast<uint8_t*>(out.mutable_data());
  py::gil_scoped_release release;
  foreign_outline(in, bytes);
  return out;
}

}  // namespace

void register_outline(py::module_& m) {
  m.def("foreign_outline", &outline, py::arg("image"), py::arg("region"), py::arg("background"), py::arg("reach"),
        py::arg("sigmas"), py::arg("levels"),
        "The background pixels within reach of region (a square), joined to it through such pixels, whose colour "
        "lies more than sigmas deviations plus levels from the background ring 2 to 3 reaches out, over the "
        "window of 2 reaches around each: (H, W) bool. image (H, W, 3) uint8; region and background (H, W) "
        "bool or uint8, all C-contiguous (compose.outline).");
}

}  // namespace interorder::bind
