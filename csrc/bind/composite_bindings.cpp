// Python binding of the CPU compositing kernel (core/composite.hpp): NumPy planes painted in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <string>
#include <vector>

#include "../core/composite.hpp"
#include "arrays.hpp"
#include "bindings.hpp"

namespace interorder::bind {
namespace {

std::string layer_name(size_t k, const char* what) { return "layer " + std::to_string(k) + " " + what; }

void paint(const py::handle& canvas_obj, const py::handle& owner_obj, const std::vector<py::object>& rgbs,
           const std::vector<py::object>& masks, const std::vector<py::object>& alphas,
           const std::vector<std::array<int64_t, 4>>& boxes) {
  auto canvas = require_array<uint8_t>(canvas_obj, "canvas", 3);
  if (canvas.shape(2) != 3) throw py::value_error("canvas must have shape (H, W, 3)");
  if (!canvas.writeable()) throw py::value_error("canvas must be writeable");
  const int64_t h = canvas.shape(0), w = canvas.shape(1);
  int32_t* owner = nullptr;
  if (!owner_obj.is_none()) {
    auto map = require_array<int32_t>(owner_obj, "owner", 2);
    if (map.shape(0) != h || map.shape(1) != w) throw py::value_error("owner must have the canvas's (H, W)");
    if (!map.writeable()) throw py::value_error("owner must be writeable");
    owner = map.mutable_data();
  }
  const size_t count = rgbs.size();
  if (masks.size() != count || alphas.size() != count || boxes.size() != count) {
    throw py::value_error("rgbs, masks, alphas and boxes must hold one entry per layer");
  }
  std::vector<PaintLayer> layers(count);
  for (size_t k = 0; k < count; ++k) {
    PaintLayer& layer = layers[k];
    layer.rgb = byte_plane(rgbs[k], layer_name(k, "rgb"), h, w, 3, "the canvas");
    layer.mask = byte_plane(masks[k], layer_name(k, "mask"), h, w, 0, "the canvas");
    if (!alphas[k].is_none()) layer.alpha = byte_plane(alphas[k], layer_name(k, "alpha"), h, w, 0, "the canvas");
    layer.x0 = boxes[k][0];
    layer.y0 = boxes[k][1];
    layer.x1 = boxes[k][2];
    layer.y1 = boxes[k][3];
  }
  const Canvas out{canvas.mutable_data(), owner, h, w};
  py::gil_scoped_release release;
  paint_layers(layers.data(), static_cast<int64_t>(count), out);
}

}  // namespace

void register_composite(py::module_& m) {
  m.def("paint_layers", &paint, py::arg("canvas"), py::arg("owner"), py::arg("rgbs"), py::arg("masks"),
        py::arg("alphas"), py::arg("boxes"),
        "Paint layers back to front onto canvas (H, W, 3) uint8 in place, each within its box (x0, y0, x1, y1); "
        "owner (H, W) int32, unless None, gets the layer index of every pixel a layer covers. A layer with alpha (not None) "
        "blends where alpha > 0; one without covers its mask.");
}

}  // namespace interorder::bind
