// Python binding of the CUDA triangle rasterizer: device pointers in (see cuda_bindings.cpp).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <string>

#include "../cuda/raster_cuda.hpp"
#include "bindings.hpp"

namespace interorder::bind {
namespace {

namespace py = pybind11;
namespace cu = interorder::cuda;

template <typename T>
T* pointer(uintptr_t address, const char* name, bool needed) {
  if (needed && address == 0) throw py::value_error(std::string(name) + " is a null device pointer");
  return reinterpret_cast<T*>(address);
}

void rasterize_device(uintptr_t texture, const std::array<int64_t, 3>& texture_shape, uintptr_t target,
                      uintptr_t source, int64_t vertices, uintptr_t triangles, uintptr_t planes, uintptr_t depth,
                      uintptr_t internal, int64_t count, int64_t height, int64_t width, uintptr_t rgb, uintptr_t alpha, uintptr_t owner,
                      uintptr_t source_xy, int device, uintptr_t stream) {
  if (vertices < 0 || count < 0 || height < 0 || width < 0) throw py::value_error("sizes must be >= 0");
  if (texture_shape[0] < 1 || texture_shape[1] < 1 || texture_shape[2] < 1) {
    throw py::value_error("texture shape (planes, H, W) must be positive");
  }
  if (device < 0 || device >= cu::device_count()) throw py::value_error("CUDA device " + std::to_string(device) + " is not available");
  const bool mesh_needed = count > 0, out_needed = height * width > 0;
  const RasterMesh mesh{pointer<const float>(target, "target", mesh_needed), pointer<const float>(source, "source", mesh_needed),
                        pointer<const int32_t>(triangles, "triangles", mesh_needed),
                        pointer<const int32_t>(planes, "planes", mesh_needed), pointer<const float>(depth, "depth", mesh_needed),
                        pointer<const uint8_t>(internal, "internal", false), vertices, count};
  const Texture tex{pointer<const uint8_t>(texture, "texture", out_needed), texture_shape[0], texture_shape[1],
                    texture_shape[2]};
  const RasterOutput out{pointer<uint8_t>(rgb, "rgb", out_needed), pointer<uint8_t>(alpha, "alpha", out_needed),
                         pointer<int32_t>(owner, "owner", out_needed), pointer<float>(source_xy, "source_xy", out_needed),
                         height, width};
  py::gil_scoped_release release;
  cu::rasterize(mesh, tex, out, device, reinterpret_cast<cu::Stream>(stream));
}

}  // namespace

void register_raster_cuda(py::module_& m) {
  m.def("cuda_rasterize", &rasterize_device, py::arg("texture"), py::arg("texture_shape"), py::arg("target"),
        py::arg("source"), py::arg("vertices"), py::arg("triangles"), py::arg("planes"), py::arg("depth"),
        py::arg("internal"), py::arg("count"), py::arg("height"), py::arg("width"), py::arg("rgb"), py::arg("alpha"), py::arg("owner"),
        py::arg("source_xy"), py::arg("device"), py::arg("stream"),
        "rasterize on device pointers (triangle and plane indices out of range skip the triangle; internal may be 0).");
}

}  // namespace interorder::bind
