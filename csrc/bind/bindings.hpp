// Registration of the binding groups into the `_C` module.
#pragma once

#include <pybind11/pybind11.h>

namespace interorder::bind {

void register_cpu(pybind11::module_& m);
void register_fill(pybind11::module_& m);  // the PatchMatch fill (fill_bindings.cpp)
void register_cuda(pybind11::module_& m);  // only in builds with CUDA (INTERORDER_WITH_CUDA)
void register_raster(pybind11::module_& m);
void register_raster_cuda(pybind11::module_& m);  // only in builds with CUDA
void register_fill_cuda(pybind11::module_& m);  // likewise (fill_cuda_bindings.cpp)
void register_composite(pybind11::module_& m);  // layer painting (composite_bindings.cpp)
void register_composite_cuda(pybind11::module_& m);  // only in builds with CUDA
void register_telea(pybind11::module_& m);  // the Telea fill (telea_bindings.cpp)
void register_outline(pybind11::module_& m);  // the removal's outline snap (outline_bindings.cpp)
void register_outline_cuda(pybind11::module_& m);  // only in builds with CUDA

}  // namespace interorder::bind
