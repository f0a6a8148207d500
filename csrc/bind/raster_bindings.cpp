// Python binding of the CPU triangle rasterizer (core/raster.hpp): NumPy in, NumPy out.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "../core/raster.hpp"
#include "arrays.hpp"
#include "bindings.hpp"

namespace interorder::bind {
namespace {

void require_rows(const py::array& arr, const char* name, int64_t rows, int64_t columns) {
  if (arr.shape(0) != rows || (columns > 0 && arr.shape(1) != columns)) {
    throw py::value_error(std::string(name) + " must have shape (" + std::to_string(rows) +
                          (columns > 0 ? ", " + std::to_string(columns) : std::string()) + "), got (" +
                          std::to_string(arr.shape(0)) + (arr.ndim() > 1 ? ", " + std::to_string(arr.shape(1)) : "") +
                          ")");
  }
}

template <typename T>
void require_range(const py::array_t<T>& arr, const char* name, int64_t limit) {
  const T* v = arr.data();
  for (py::ssize_t k = 0; k < arr.size(); ++k) {
    if (v[k] < 0 || v[k] >= limit) {
      throw py::value_error(std::string(name) + " holds " + std::to_string(v[k]) + ", outside [0, " +
                            std::to_string(limit) + ")");
    }
  }
}

py::tuple rasterize_mesh(const py::handle& texture_obj, const py::handle& target_obj, const py::handle& source_obj,
                         const py::handle& triangles_obj, const py::handle& planes_obj, const py::handle& depth_obj,
                         const py::handle& internal_obj, int64_t height, int64_t width) {
  const auto texture = require_array<uint8_t>(texture_obj, "texture", 4);
  if (texture.shape(3) != 3) throw py::value_error("texture must have shape (planes, H, W, 3)");
  if (texture.shape(1) < 1 || texture.shape(2) < 1) throw py::value_error("texture planes must not be empty");
  const auto target = require_array<float>(target_obj, "target", 2);
  const int64_t vertices = target.shape(0);
  require_rows(target, "target", vertices, 2);
  const auto source = require_array<float>(source_obj, "source", 2);
  require_rows(source, "source", vertices, 2);
  const auto triangles = require_array<int32_t>(triangles_obj, "triangles", 2);
  const int64_t count = triangles.shape(0);
  require_rows(triangles, "triangles", count, 3);
  const auto planes = require_array<int32_t>(planes_obj, "planes", 1);
  require_rows(planes, "planes", count, 0);
  const auto depth = require_array<float>(depth_obj, "depth", 1);
  require_rows(depth, "depth", count, 0);
  const auto internal = require_array<uint8_t>(internal_obj, "internal", 1);
  require_rows(internal, "internal", count, 0);
  require_range(triangles, "triangles", vertices);
  require_range(planes, "planes", texture.shape(0));
  if (height < 0 || width < 0) throw py::value_error("output height and width must be >= 0");

  py::array_t<uint8_t> rgb({height, width, int64_t{3}});
  py::array_t<uint8_t> alpha({height, width});
  py::array_t<int32_t> owner({height, width});
  py::array_t<float> source_xy({height, width, int64_t{2}});
  const RasterMesh mesh{target.data(), source.data(), triangles.data(), planes.data(), depth.data(), internal.data(),
                        vertices, count};
  const Texture tex{texture.data(), texture.shape(0), texture.shape(1), texture.shape(2)};
  const RasterOutput out{rgb.mutable_data(), alpha.mutable_data(), owner.mutable_data(), source_xy.mutable_data(),
                         height, width};
  {
    py::gil_scoped_release release;
    rasterize(mesh, tex, out);
  }
  return py::make_tuple(rgb, alpha, owner, source_xy);
}

}  // namespace

void register_raster(py::module_& m) {
  m.def("rasterize", &rasterize_mesh, py::arg("texture"), py::arg("target"), py::arg("source"), py::arg("triangles"),
        py::arg("planes"), py::arg("depth"), py::arg("internal"), py::arg("height"), py::arg("width"),
        "Textured triangles with a z-buffer -> (rgb (h, w, 3) uint8, alpha (h, w) uint8 coverage, "
        "owner (h, w) int32 front triangle or -1, source_xy (h, w, 2) float32 texture coordinate or NaN).");
}

}  // namespace interorder::bind
