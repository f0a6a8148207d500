// Python bindings of the CPU kernels: NumPy in, NumPy out, the GIL released while they run.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>

#include "../core/ops.hpp"
#include "../core/threads.hpp"
#include "arrays.hpp"
#include "bindings.hpp"

namespace interorder::bind {
namespace {

py::tuple pack_masks(const py::handle& masks) {
  std::vector<int64_t> shape;
  const ByteStack src = byte_stack(masks, "masks", shape);
  const Dims d{shape[0], shape[1], shape[2], words_for_width(shape[2])};
  py::array_t<uint64_t> bits({d.n, d.h, d.words});
  py::array_t<int64_t> areas(d.n);
  py::array_t<int32_t> boxes({d.n, int64_t{4}});
  {
    py::gil_scoped_release release;
    pack(src, d, bits.mutable_data(), areas.mutable_data(), boxes.mutable_data());
  }
  return py::make_tuple(bits, areas, boxes);
}

py::array_t<bool> unpack_masks(const py::handle& bits_obj, int64_t width) {
  const auto bits = require_array<uint64_t>(bits_obj, "bits", 3);
  const Dims d = packed_dims(bits, width);
  py::array_t<bool> out({d.n, d.h, d.w});
  {
    py::gil_scoped_release release;
    unpack(bits.data(), d.n, d, reinterpret_cast<uint8_t*>(out.mutable_data()));
  }
  return out;
}

// union / intersection of the listed masks as one packed plane; all zero for an empty list.
std::vector<uint64_t> combined_plane(const py::array_t<uint64_t>& bits, const Dims& d, const py::handle& index_obj,
                                     const char* name, Combine op) {
  const auto index = require_index(index_obj, name, d.n);
  std::vector<uint64_t> plane(static_cast<size_t>(d.mask_stride()), 0);
  if (index.shape(0) > 0) {
    py::gil_scoped_release release;
    combine(bits.data(), d, index.data(), index.shape(0), op, plane.data());
  }
  return plane;
}

py::array_t<bool> plane_to_array(const std::vector<uint64_t>& plane, const Dims& d) {
  py::array_t<bool> out({d.h, d.w});
  py::gil_scoped_release release;
  unpack(plane.data(), 1, d, reinterpret_cast<uint8_t*>(out.mutable_data()));
  return out;
}

py::array_t<bool> select(const py::handle& bits_obj, int64_t width, const py::handle& index, Combine op) {
  const auto bits = require_array<uint64_t>(bits_obj, "bits", 3);
  const Dims d = packed_dims(bits, width);
  return plane_to_array(combined_plane(bits, d, index, "index", op), d);
}

py::array_t<bool> difference_of(const py::handle& bits_obj, int64_t width, const py::handle& a, const py::handle& b) {
  const auto bits = require_array<uint64_t>(bits_obj, "bits", 3);
  const Dims d = packed_dims(bits, width);
  std::vector<uint64_t> kept = combined_plane(bits, d, a, "a", Combine::kUnion);
  const std::vector<uint64_t> removed = combined_plane(bits, d, b, "b", Combine::kUnion);
  {
    py::gil_scoped_release release;
    and_not(kept.data(), removed.data(), d);
  }
  return plane_to_array(kept, d);
}

py::array_t<int64_t> intersections(const py::handle& bits_obj, int64_t width, const py::handle& boxes_obj,
                                   const py::handle& areas_obj) {
  const auto bits = require_array<uint64_t>(bits_obj, "bits", 3);
  const Dims d = packed_dims(bits, width);
  const auto boxes = require_boxes(boxes_obj, d);
  const auto areas = require_array<int64_t>(areas_obj, "areas", 1);
  if (areas.shape(0) != d.n) throw py::value_error("areas must have shape (" + std::to_string(d.n) + ",)");
  py::array_t<int64_t> out({d.n, d.n});
  py::gil_scoped_release release;
  intersection_matrix(bits.data(), d, boxes.data(), areas.data(), out.mutable_data());
  return out;
}

py::array_t<bool> bordering(const py::handle& bits_obj, int64_t width, const py::handle& boxes_obj) {
  const auto bits = require_array<uint64_t>(bits_obj, "bits", 3);
  const Dims d = packed_dims(bits, width);
  const auto boxes = require_boxes(boxes_obj, d);
  py::array_t<bool> out({d.n, d.n});
  py::gil_scoped_release release;
  bordering_matrix(bits.data(), d, boxes.data(), reinterpret_cast<uint8_t*>(out.mutable_data()));
  return out;
}

py::array_t<bool> hulls(const py::handle& bits_obj, int64_t width, const py::handle& boxes_obj) {
  const auto bits = require_array<uint64_t>(bits_obj, "bits", 3);
  const Dims d = packed_dims(bits, width);
  const auto boxes = require_boxes(boxes_obj, d);
  py::array_t<bool> out({d.n, d.h, d.w});
  py::gil_scoped_release release;
  uint8_t* dst = reinterpret_cast<uint8_t*>(out.mutable_data());
  std::memset(dst, 0, static_cast<size_t>(d.n * d.h * d.w));
  convex_hulls(bits.data(), d, boxes.data(), dst);
  return out;
}

py::array_t<uint8_t> crops(const py::handle& bits_obj, int64_t width, const py::handle& index_obj,
                           const py::handle& boxes_obj, int64_t size) {
  const auto bits = require_array<uint64_t>(bits_obj, "bits", 3);
  const Dims d = packed_dims(bits, width);
  const auto index = require_index(index_obj, "indices", d.n);
  const auto crop_boxes = require_array<double>(boxes_obj, "crop_boxes", 2);
  if (crop_boxes.shape(0) != index.shape(0) || crop_boxes.shape(1) != 4) {
    throw py::value_error("crop_boxes must have shape (" + std::to_string(index.shape(0)) + ", 4), one per index");
  }
  if (size < 0) throw py::value_error("crop size must be >= 0, got " + std::to_string(size));
  const int64_t count = index.shape(0);
  py::array_t<uint8_t> out({count, size, size});
  py::gil_scoped_release release;
  crop_resize(bits.data(), d, index.data(), crop_boxes.data(), count, size, out.mutable_data());
  return out;
}

py::array_t<int64_t> growth(const py::handle& amodal_obj, const py::handle& target_obj, const py::handle& partner_obj) {
  std::vector<int64_t> sa, st, sp;
  const ByteStack a = byte_stack(amodal_obj, "amodal", sa);
  const ByteStack t = byte_stack(target_obj, "target", st);
  const ByteStack p = byte_stack(partner_obj, "partner", sp);
  if (sa != st || sa != sp) throw py::value_error("amodal, target and partner must have the same shape");
  py::array_t<int64_t> out(sa[0]);
  py::gil_scoped_release release;
  growth_counts(a, t, p, sa[0], sa[1], sa[2], out.mutable_data());
  return out;
}

}  // namespace

void register_cpu(py::module_& m) {
  m.def("pack", &pack_masks, py::arg("masks"),
        "Pack (N, H, W) bool/uint8 masks (any strides; nonzero is set) -> (bits (N, H, ceil(W/64)) uint64, "
        "areas (N,) int64, boxes (N, 4) int32).");
  m.def("unpack", &unpack_masks, py::arg("bits"), py::arg("width"), "Packed bits -> (N, H, W) bool.");
  m.def(
      "union", [](const py::handle& bits, int64_t width, const py::handle& index) {
        return select(bits, width, index, Combine::kUnion);
      },
      py::arg("bits"), py::arg("width"), py::arg("index"), "Union of the indexed masks, (H, W) bool.");
  m.def(
      "intersection", [](const py::handle& bits, int64_t width, const py::handle& index) {
        return select(bits, width, index, Combine::kIntersection);
      },
      py::arg("bits"), py::arg("width"), py::arg("index"), "Intersection of the indexed masks, (H, W) bool.");
  m.def("difference", &difference_of, py::arg("bits"), py::arg("width"), py::arg("a"), py::arg("b"),
        "union(a) minus union(b), (H, W) bool.");
  m.def("intersection_matrix", &intersections, py::arg("bits"), py::arg("width"), py::arg("boxes"), py::arg("areas"),
        "(N, N) int64 pixel counts of mask_i & mask_j.");
  m.def("bordering_matrix", &bordering, py::arg("bits"), py::arg("width"), py::arg("boxes"),
        "(N, N) bool: mask i dilated by a 3x3 cross touches mask j.");
  m.def("convex_hulls", &hulls, py::arg("bits"), py::arg("width"), py::arg("boxes"),
        "(N, H, W) bool convex hull of each mask.");
  m.def("crop_resize", &crops, py::arg("bits"), py::arg("width"), py::arg("indices"), py::arg("crop_boxes"),
        py::arg("size"), "(B, size, size) uint8 nearest-neighbour crops.");
  m.def("growth_counts", &growth, py::arg("amodal"), py::arg("target"), py::arg("partner"),
        "(B,) int64 |amodal & ~target & partner| per item of three (B, H, W) bool/uint8 stacks.");
  m.def("num_threads", &num_threads, "Threads the CPU kernels use.");
  m.def("set_num_threads", &set_num_threads, py::arg("n"), "Set the threads the CPU kernels use (n >= 1).");
  m.attr("openmp") = openmp_enabled();
}

}  // namespace interorder::bind
