// Python bindings of the CUDA kernels. Pointer based: device arrays arrive as integers (from
// torch tensors or __cuda_array_interface__) with a device and a stream, so no torch is needed
// to build. DeviceBuffer gives callers without torch somewhere to put results.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <limits>
#include <string>
#include <vector>

#include "../cuda/ops_cuda.hpp"
#include "arrays.hpp"
#include "bindings.hpp"

namespace interorder::bind {
namespace {

namespace cu = interorder::cuda;
using Shape3 = std::array<int64_t, 3>;

template <typename T>
T* device_ptr(uintptr_t address, const char* name, bool needed) {
  if (needed && address == 0) throw py::value_error(std::string(name) + " is a null device pointer");
  return reinterpret_cast<T*>(address);
}

cu::Stream as_stream(uintptr_t stream) { return reinterpret_cast<cu::Stream>(stream); }

void require_device(int device) {
  const int count = cu::device_count();
  if (device < 0 || device >= count) {
    throw py::value_error("CUDA device " + std::to_string(device) + " is not available (" + std::to_string(count) +
                          " usable)");
  }
}

Dims mask_dims(int64_t n, int64_t h, int64_t w) {
  const int64_t limit = std::numeric_limits<int32_t>::max();
  if (n < 0 || h < 0 || w < 0) throw py::value_error("mask dimensions must be >= 0");
  if (h > limit || w > limit) throw py::value_error("height and width must be below 2**31");
  return {n, h, w, words_for_width(w)};
}

ByteStack device_stack(uintptr_t ptr, const Shape3& strides, bool needed, const char* name) {
  return {device_ptr<const uint8_t>(ptr, name, needed), strides[0], strides[1], strides[2]};
}

// One-element sizes of the typestrs DeviceBuffer supports (those of NumPy's dtype.str).
size_t item_size(const std::string& typestr) {
  static const std::vector<std::pair<std::string, size_t>> known = {
      {"|b1", 1}, {"|u1", 1}, {"<i4", 4}, {"<i8", 8}, {"<u8", 8}, {"<f4", 4}, {"<f8", 8}};
  for (const auto& [name, size] : known) {
    if (name == typestr) return size;
  }
  throw py::value_error("unsupported typestr " + typestr);
}

// A C-contiguous device array owned by Python; exposes __cuda_array_interface__ (version 3).
class DeviceBuffer {
 public:
  DeviceBuffer(std::vector<int64_t> shape, std::string typestr, int device, uintptr_t stream)
      : shape_(std::move(shape)), typestr_(std::move(typestr)), device_(device), stream_(stream) {
    require_device(device);
    size_t count = 1;
    for (int64_t extent : shape_) {
      if (extent < 0) throw py::value_error("DeviceBuffer extents must be >= 0");
      count *= static_cast<size_t>(extent);
    }
    nbytes_ = count * item_size(typestr_);
    ptr_ = cu::allocate(nbytes_, device_);
  }
  ~DeviceBuffer() { cu::release(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  uintptr_t ptr() const { return reinterpret_cast<uintptr_t>(ptr_); }

  py::dict interface() const {
    py::dict d;
    d["shape"] = py::tuple(py::cast(shape_));
    d["typestr"] = typestr_;
    d["data"] = py::make_tuple(ptr(), false);
    d["strides"] = py::none();
    d["version"] = 3;
    d["stream"] = stream_ == 0 ? py::object(py::none()) : py::object(py::int_(stream_));
    return d;
  }

  void copy_from(const py::handle& obj) {
    const py::array host = as_ndarray(obj, "host array");
    if (!(host.flags() & py::array::c_style) || static_cast<size_t>(host.nbytes()) != nbytes_) {
      throw py::value_error("host array must be C-contiguous with " + std::to_string(nbytes_) + " bytes");
    }
    cu::copy_to_device(ptr_, host.data(), nbytes_, device_, as_stream(stream_));
  }

  py::array to_numpy() const {
    py::array out(py::dtype(typestr_), shape_);
    {
      py::gil_scoped_release release;
      cu::copy_to_host(out.mutable_data(), ptr_, nbytes_, device_, as_stream(stream_));
    }
    return out;
  }

  const std::vector<int64_t>& shape() const { return shape_; }
  const std::string& typestr() const { return typestr_; }
  int device() const { return device_; }
  size_t nbytes() const { return nbytes_; }

 private:
  std::vector<int64_t> shape_;
  std::string typestr_;
  int device_;
  uintptr_t stream_;
  size_t nbytes_ = 0;
  void* ptr_ = nullptr;
};

std::string architectures() { return INTERORDER_CUDA_ARCHS; }

void register_buffer(py::module_& m) {
  py::class_<DeviceBuffer>(m, "DeviceBuffer", "C-contiguous CUDA memory exposing __cuda_array_interface__.")
      .def(py::init<std::vector<int64_t>, std::string, int, uintptr_t>(), py::arg("shape"), py::arg("typestr"),
           py::arg("device"), py::arg("stream") = 0)
      .def_property_readonly("ptr", &DeviceBuffer::ptr)
      .def_property_readonly("shape", [](const DeviceBuffer& b) { return py::tuple(py::cast(b.shape())); })
      .def_property_readonly("typestr", &DeviceBuffer::typestr)
      .def_property_readonly("device", &DeviceBuffer::device)
      .def_property_readonly("nbytes", &DeviceBuffer::nbytes)
      .def_property_readonly("__cuda_array_interface__", &DeviceBuffer::interface)
      .def("copy_from", &DeviceBuffer::copy_from, py::arg("host"), "Copy a host array of the same size in.")
      .def("to_numpy", &DeviceBuffer::to_numpy, "Copy to a new host array (waits for the stream).");
}

void register_kernels(py::module_& m) {
  m.def(
      "cuda_pack",
      [](uintptr_t src, const Shape3& shape, const Shape3& strides, uintptr_t bits, uintptr_t areas, uintptr_t boxes,
         int device, uintptr_t stream) {
        const Dims d = mask_dims(shape[0], shape[1], shape[2]);
        const bool has_pixels = d.n * d.h * d.w > 0;
        require_device(device);
        py::gil_scoped_release release;
        cu::pack(device_stack(src, strides, has_pixels, "masks"), d, device_ptr<uint64_t>(bits, "bits", d.n * d.h * d.words > 0),
                 device_ptr<int64_t>(areas, "areas", d.n > 0), device_ptr<int32_t>(boxes, "boxes", d.n > 0), device,
                 as_stream(stream));
      },
      py::arg("src"), py::arg("shape"), py::arg("strides"), py::arg("bits"), py::arg("areas"), py::arg("boxes"),
      py::arg("device"), py::arg("stream"));
  m.def(
      "cuda_unpack",
      [](uintptr_t bits, int64_t planes, int64_t h, int64_t w, uintptr_t out, int device, uintptr_t stream) {
        const Dims d = mask_dims(planes, h, w);
        require_device(device);
        const bool needed = planes * h * w > 0;
        py::gil_scoped_release release;
        cu::unpack(device_ptr<const uint64_t>(bits, "bits", needed), planes, d, device_ptr<uint8_t>(out, "out", needed),
                   device, as_stream(stream));
      },
      py::arg("bits"), py::arg("planes"), py::arg("height"), py::arg("width"), py::arg("out"), py::arg("device"),
      py::arg("stream"));
  m.def(
      "cuda_combine",
      [](uintptr_t bits, const Shape3& shape, const py::handle& index_obj, const std::string& op, uintptr_t out,
         int device, uintptr_t stream) {
        const Dims d = mask_dims(shape[0], shape[1], shape[2]);
        if (op != "union" && op != "intersection") throw py::value_error("op must be 'union' or 'intersection'");
        const auto index = require_index(index_obj, "index", d.n);
        require_device(device);
        const bool needed = index.shape(0) > 0 && d.h * d.words > 0;
        py::gil_scoped_release release;
        cu::combine(device_ptr<const uint64_t>(bits, "bits", needed), d, index.data(), index.shape(0),
                    op == "union" ? Combine::kUnion : Combine::kIntersection, device_ptr<uint64_t>(out, "out", needed),
                    device, as_stream(stream));
      },
      py::arg("bits"), py::arg("shape"), py::arg("index"), py::arg("op"), py::arg("out"), py::arg("device"),
      py::arg("stream"));
  m.def(
      "cuda_and_not",
      [](uintptr_t out, uintptr_t other, int64_t h, int64_t w, int device, uintptr_t stream) {
        const Dims d = mask_dims(1, h, w);
        require_device(device);
        const bool needed = d.h * d.words > 0;
        py::gil_scoped_release release;
        cu::and_not(device_ptr<uint64_t>(out, "out", needed), device_ptr<const uint64_t>(other, "other", needed), d,
                    device, as_stream(stream));
      },
      py::arg("out"), py::arg("other"), py::arg("height"), py::arg("width"), py::arg("device"), py::arg("stream"));
  m.def(
      "cuda_intersection_matrix",
      [](uintptr_t bits, const Shape3& shape, uintptr_t boxes, uintptr_t areas, uintptr_t out, int device,
         uintptr_t stream) {
        const Dims d = mask_dims(shape[0], shape[1], shape[2]);
        require_device(device);
        const bool needed = d.n > 0;
        py::gil_scoped_release release;
        cu::intersection_matrix(device_ptr<const uint64_t>(bits, "bits", needed && d.h * d.words > 0), d,
                                device_ptr<const int32_t>(boxes, "boxes", needed),
                                device_ptr<const int64_t>(areas, "areas", needed), device_ptr<int64_t>(out, "out", needed),
                                device, as_stream(stream));
      },
      py::arg("bits"), py::arg("shape"), py::arg("boxes"), py::arg("areas"), py::arg("out"), py::arg("device"),
      py::arg("stream"));
  m.def(
      "cuda_bordering_matrix",
      [](uintptr_t bits, const Shape3& shape, uintptr_t boxes, uintptr_t out, int device, uintptr_t stream) {
        const Dims d = mask_dims(shape[0], shape[1], shape[2]);
        require_device(device);
        const bool needed = d.n > 0;
        py::gil_scoped_release release;
        cu::bordering_matrix(device_ptr<const uint64_t>(bits, "bits", needed && d.h * d.words > 0), d,
                             device_ptr<const int32_t>(boxes, "boxes", needed), device_ptr<uint8_t>(out, "out", needed),
                             device, as_stream(stream));
      },
      py::arg("bits"), py::arg("shape"), py::arg("boxes"), py::arg("out"), py::arg("device"), py::arg("stream"));
  m.def(
      "cuda_convex_hulls",
      [](uintptr_t bits, const Shape3& shape, uintptr_t boxes, uintptr_t out, int device, uintptr_t stream) {
        const Dims d = mask_dims(shape[0], shape[1], shape[2]);
        require_device(device);
        const bool needed = d.n * d.h * d.w > 0;
        py::gil_scoped_release release;
        cu::convex_hulls(device_ptr<const uint64_t>(bits, "bits", needed), d, device_ptr<const int32_t>(boxes, "boxes", needed),
                         device_ptr<uint8_t>(out, "out", needed), device, as_stream(stream));
      },
      py::arg("bits"), py::arg("shape"), py::arg("boxes"), py::arg("out"), py::arg("device"), py::arg("stream"));
  m.def(
      "cuda_crop_resize",
      [](uintptr_t bits, const Shape3& shape, uintptr_t index, uintptr_t crop_boxes, int64_t count, int64_t size,
         uintptr_t out, int device, uintptr_t stream) {
        const Dims d = mask_dims(shape[0], shape[1], shape[2]);
        if (count < 0 || size < 0) throw py::value_error("crop count and size must be >= 0");
        require_device(device);
        const bool needed = count * size * size > 0;
        py::gil_scoped_release release;
        cu::crop_resize(device_ptr<const uint64_t>(bits, "bits", needed && d.h * d.words > 0), d,
                        device_ptr<const int64_t>(index, "indices", needed),
                        device_ptr<const double>(crop_boxes, "crop_boxes", needed), count, size,
                        device_ptr<uint8_t>(out, "out", needed), device, as_stream(stream));
      },
      py::arg("bits"), py::arg("shape"), py::arg("indices"), py::arg("crop_boxes"), py::arg("count"), py::arg("size"),
      py::arg("out"), py::arg("device"), py::arg("stream"));
  m.def(
      "cuda_growth_counts",
      [](uintptr_t amodal, const Shape3& amodal_strides, uintptr_t target, const Shape3& target_strides,
         uintptr_t partner, const Shape3& partner_strides, const Shape3& shape, uintptr_t out, int device,
         uintptr_t stream) {
        const Dims d = mask_dims(shape[0], shape[1], shape[2]);
        require_device(device);
        const bool needed = d.n * d.h * d.w > 0;
        py::gil_scoped_release release;
        cu::growth_counts(device_stack(amodal, amodal_strides, needed, "amodal"),
                          device_stack(target, target_strides, needed, "target"),
                          device_stack(partner, partner_strides, needed, "partner"), d.n, d.h, d.w,
                          device_ptr<int64_t>(out, "out", d.n > 0), device, as_stream(stream));
      },
      py::arg("amodal"), py::arg("amodal_strides"), py::arg("target"), py::arg("target_strides"), py::arg("partner"),
      py::arg("partner_strides"), py::arg("shape"), py::arg("out"), py::arg("device"), py::arg("stream"));
}

}  // namespace

void register_cuda(py::module_& m) {
  m.attr("cuda_compiled") = true;
  m.attr("cuda_runtime_version") = cu::runtime_version();
  m.attr("cuda_architectures") = architectures();
  m.def("cuda_device_count", &cu::device_count, "Usable CUDA devices; 0 without a GPU or driver (never raises).");
  m.def("cuda_driver_version", &cu::driver_version, "CUDA version the driver supports, 0 without a driver.");
  m.def(
      "cuda_pointer_device", [](uintptr_t ptr) { return cu::pointer_device(reinterpret_cast<const void*>(ptr)); },
      py::arg("ptr"), "Device that owns a CUDA pointer.");
  register_buffer(m);
  register_kernels(m);
}

}  // namespace interorder::bind
