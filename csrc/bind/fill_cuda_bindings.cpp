// Python binding of the CUDA PatchMatch fill: device pointers in (as the other CUDA bindings),
// the image filled in place.
#include <pybind11/pybind11.h>

#include <string>

#include "../cuda/ops_cuda.hpp"
#include "bindings.hpp"
#include "fill_options.hpp"

namespace interorder::bind {

namespace py = pybind11;

void register_fill_cuda(py::module_& m) {
  m.def(
      "cuda_patchmatch_fill",
      [](uintptr_t rgb, uintptr_t hole, uintptr_t source, int height, int width, int patch_size, int iterations,
         int finest_iterations, int coarsest_side, int local_radius, uint32_t seed, int device, uintptr_t stream,
         uintptr_t shown) {
        if (height < 0 || width < 0 || height > (1 << 15) || width > (1 << 15)) {
          throw py::value_error("the fill region must be 0 to 32768 pixels a side");
        }
        const bool needed = height > 0 && width > 0;
        if (needed && (rgb == 0 || hole == 0 || source == 0)) throw py::value_error("null device pointer");
        const int count = cuda::device_count();
        if (device < 0 || device >= count) {
          throw py::value_error("CUDA device " + std::to_string(device) + " is not available");
        }
        const FillOptions options =
            options_from(patch_size, iterations, finest_iterations, coarsest_side, local_radius, seed);
        py::gil_scoped_release release;
        return cuda::patchmatch_fill(reinterpret_cast<uint8_t*>(rgb), reinterpret_cast<const uint8_t*>(hole),
                                     reinterpret_cast<const uint8_t*>(source), height, width, options, device,
                                     reinterpret_cast<cuda::Stream>(stream), reinterpret_cast<const uint8_t*>(shown));
      },
      py::arg("rgb"), py::arg("hole"), py::arg("source"), py::arg("height"), py::arg("width"), py::arg("patch_size") = 7,
      py::arg("iterations") = 6, py::arg("finest_iterations") = 0, py::arg("coarsest_side") = 40,
      py::arg("local_radius") = 8, py::arg("seed") = 0, py::arg("device") = 0, py::arg("stream") = 0,
      py::arg("shown") = 0,
      "PatchMatch fill of a device (H, W, 3) uint8 image in place from device (H, W) uint8 hole / source planes "
      "(and an optional `shown` plane: the hole pixels whose fill is seen, as the CPU fill's); False when no patch "
      "lies wholly in the source (the image is then unchanged).");
}

}  // namespace interorder::bind
