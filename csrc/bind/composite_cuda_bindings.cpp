// Python binding of the CUDA compositing kernel: device pointers in (see cuda_bindings.cpp).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <string>
#include <vector>

#include "../cuda/composite_cuda.hpp"
#include "bindings.hpp"

namespace interorder::bind {
namespace {

namespace py = pybind11;
namespace cu = interorder::cuda;

void paint_device(uintptr_t canvas, uintptr_t owner, int64_t height, int64_t width, const std::vector<uintptr_t>& rgbs,
                  const std::vector<uintptr_t>& masks, const std::vector<uintptr_t>& alphas,
                  const std::vector<std::array<int64_t, 4>>& boxes, int device, uintptr_t stream) {
  if (height < 0 || width < 0) throw py::value_error("canvas height and width must be >= 0");
  if (device < 0 || device >= cu::device_count()) throw py::value_error("CUDA device " + std::to_string(device) + " is not available");
  const size_t count = rgbs.size();
  if (masks.size() != count || alphas.size() != count || boxes.size() != count) {
    throw py::value_error("rgbs, masks, alphas and boxes must hold one entry per layer");
  }
  if (height * width == 0 || count == 0) return;
  if (canvas == 0) throw py::value_error("canvas must be a device pointer, got null");
  std::vector<PaintLayer> layers(count);
  for (size_t k = 0; k < count; ++k) {
    if (rgbs[k] == 0 || (masks[k] == 0 && alphas[k] == 0)) {
      throw py::value_error("layer " + std::to_string(k) + " needs an rgb pointer and a mask or alpha pointer");
    }
    layers[k].rgb = reinterpret_cast<const uint8_t*>(rgbs[k]);
    layers[k].mask = reinterpret_cast<const uint8_t*>(masks[k]);
    layers[k].alpha = reinterpret_cast<const uint8_t*>(alphas[k]);
    layers[k].x0 = boxes[k][0];
    layers[k].y0 = boxes[k][1];
    layers[k].x1 = boxes[k][2];
    layers[k].y1 = boxes[k][3];
  }
  const Canvas out{reinterpret_cast<uint8_t*>(canvas), reinterpret_cast<int32_t*>(owner), height, width};
  py::gil_scoped_release release;
  cu::paint_layers(layers.data(), static_cast<int64_t>(count), out, device, reinterpret_cast<cu::Stream>(stream));
}

}  // namespace

void register_composite_cuda(py::module_& m) {
  m.def("cuda_paint_layers", &paint_device, py::arg("canvas"), py::arg("owner"), py::arg("height"), py::arg("width"),
        py::arg("rgbs"), py::arg("masks"), py::arg("alphas"), py::arg("boxes"), py::arg("device"), py::arg("stream"),
        "paint_layers on device pointers (an alpha of 0 means none; a layer with alpha needs no mask; an owner of 0 keeps no owner map).");
}

}  // namespace interorder::bind
