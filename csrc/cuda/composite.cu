// Compositing on the GPU: one launch per layer, a thread per pixel of the layer's box; launches on
// one stream run in order, so layers paint back to front as on the CPU.
#include "../core/composite_math.hpp"
#include "common.cuh"
#include "composite_cuda.hpp"

namespace interorder::cuda {
namespace {

__global__ void paint_kernel(PaintLayer layer, int32_t k, Canvas canvas, int64_t x0, int64_t y0, int64_t cols,
                             int64_t total) {
  for (int64_t i = grid_start(); i < total; i += grid_stride()) {
    const int64_t y = y0 + i / cols, x = x0 + i % cols;
    paint_pixel(layer, k, y * canvas.w + x, canvas);
  }
}

}  // namespace

void paint_layers(const PaintLayer* layers, int64_t count, const Canvas& canvas, int device, Stream stream) {
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream);
  for (int64_t k = 0; k < count; ++k) {
    int64_t box[4];
    clipped_box(layers[k], canvas, box);
    const int64_t cols = box[2] - box[0], rows = box[3] - box[1];
    if (rows <= 0 || cols <= 0) continue;
    paint_kernel<<<blocks_for(rows * cols), kThreads, 0, s>>>(layers[k], static_cast<int32_t>(k), canvas, box[0],
                                                                box[1], cols, rows * cols);
    check_launch("paint_kernel");
  }
}

}  // namespace interorder::cuda
