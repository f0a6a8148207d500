// Python binding of the CUDA outline kernel: device pointers in (as the other CUDA bindings).
#include <pybind11/pybind11.h>

#include <string>

#include "../cuda/outline_cuda.hpp"
#include "bindings.hpp"

namespace interorder::bind {

namespace py = pybind11;

void register_outline_cuda(py::module_& m) {
  m.def(
      "cuda_foreign_outline",
      [](uintptr_t rgb, uintptr_t region, uintptr_t background, uintptr_t out, int64_t height, int64_t width,
         int reach, double sigmas, double levels, int device, uintptr_t stream) {
        if (height < 0 || width < 0 || height * width >= (int64_t{1} << 31)) {
          throw py::value_error("the planes must be 0 to 2**31 pixels");
        }
        if (reach > 4096) throw py::value_error("reach must be at most 4096");
        if (height * width > 0 && (rgb == 0 || region == 0 || background == 0 || out == 0)) {
          throw py::value_error("null device pointer");
        }
        if (device < 0 || device >= cuda::device_count()) {
          throw py::value_error("CUDA device " + std::to_string(device) + " is not available");
        }
        OutlineInput in;
        in.rgb = reinterpret_cast<const uint8_t*>(rgb);
        in.region = reinterpret_cast<const uint8_t*>(region);
        in.background = reinterpret_cast<const uint8_t*>(background);
        in.h = height;
        in.w = width;
        in.reach = reach;
        in.sigmas = sigmas;
        in.levels = levels;
        py::gil_scoped_release release;
        cuda::foreign_outline(in, reinterpret_cast<uint8_t*>(out), device, reinterpret_cast<cuda::Stream>(stream));
      },
      py::arg("rgb"), py::arg("region"), py::arg("background"), py::arg("out"), py::arg("height"), py::arg("width"),
      py::arg("reach"), py::arg("sigmas"), py::arg("levels"), py::arg("device") = 0, py::arg("stream") = 0,
      "foreign_outline on device planes: rgb (H, W, 3) uint8, region and background (H, W) bool or uint8; "
      "writes out (H, W) (1: joins the region).");
}

}  // namespace interorder::bind
