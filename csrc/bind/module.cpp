// The `interorder_rt._C` extension: compiled mask kernels (CPU always, CUDA when built with it).
#include <pybind11/pybind11.h>

#include "bindings.hpp"

PYBIND11_MODULE(_C, m) {
  m.doc() = "interorder_rt compiled mask kernels";
  interorder::bind::register_cpu(m);
  interorder::bind::register_raster(m);
  interorder::bind::register_fill(m);
  interorder::bind::register_composite(m);
  interorder::bind::register_telea(m);
  interorder::bind::register_outline(m);
#ifdef INTERORDER_WITH_CUDA
  interorder::bind::register_cuda(m);
  interorder::bind::register_raster_cuda(m);
  interorder::bind::register_fill_cuda(m);
  interorder::bind::register_composite_cuda(m);
  interorder::bind::register_outline_cuda(m);
#else
  m.attr("cuda_compiled") = false;
#endif
}
