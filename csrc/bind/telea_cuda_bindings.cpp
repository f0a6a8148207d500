// Python binding of the CUDA Telea fill: device pointers in (as the other CUDA bindings), the image filled in place.
#include <pybind11/pybind11.h>

#include <string>

#include "../cuda/telea_cuda.hpp"
#include "bindings.hpp"

namespace interorder::bind {

namespace py = pybind11;

void register_telea_cuda(py::module_& m) {
  m.def(
      "cuda_telea_inpaint",
      [](uintptr_t rgb, uintptr_t unknown, int height, int width, int radius, int device, uintptr_t stream) {
        if (height < 0 || width < 0 || static_cast<int64_t>(height) * width >= (int64_t{1} << 31)) {
          throw py::value_error("the image must be 0 to 2**31 pixels");
        }
        if (height > 0 && width > 0 && (rgb == 0 || unknown == 0)) throw py::value_error("null device pointer");
        if (device < 0 || device >= cuda::device_count()) {
          throw py::value_error("CUDA device " + std::to_string(device) + " is not available");
        }
        py::gil_scoped_release release;
        cuda::telea_inpaint(reinterpret_cast<uint8_t*>(rgb), reinterpret_cast<const uint8_t*>(unknown), height, width,
                            radius, device, reinterpret_cast<cuda::Stream>(stream));
      },
      py::arg("rgb"), py::arg("unknown"), py::arg("height"), py::arg("width"), py::arg("radius") = 3,
      py::arg("device") = 0, py::arg("stream") = 0,
      "telea_inpaint on a device (H, W, 3) uint8 image in place, from a device (H, W) uint8 unknown plane.");
}

}  // namespace interorder::bind
