// Convex hull masks on the GPU: row extremes (a thread per row), the hull (a thread per mask,
// hull_math.hpp as on the CPU), the covered span of each row, then the bytes.
#include "../core/hull_math.hpp"
#include "common.cuh"

namespace interorder::cuda {
namespace {

// First and last set column of every row, -1 for an empty row.
__global__ void extremes_kernel(const uint64_t* bits, Dims d, int64_t* first, int64_t* last) {
  const int64_t rows = d.n * d.h;
  for (int64_t r = grid_start(); r < rows; r += grid_stride()) {
    const uint64_t* row = bits + r * d.words;
    int64_t lo = -1, hi = -1;
    for (int64_t k = 0; k < d.words; ++k) {
      if (row[k] == 0) continue;
      if (lo < 0) lo = k * 64 + __ffsll(static_cast<long long>(row[k])) - 1;
      hi = k * 64 + 63 - __clzll(static_cast<long long>(row[k]));
    }
    first[r] = lo;
    last[r] = hi;
  }
}

// Hull of each mask's row extremes into `hulls` (4 h points per mask), vertex count in `sizes`.
__global__ void hull_kernel(Dims d, const int64_t* first, const int64_t* last, Point* points, Point* hulls,
                            int64_t* sizes) {
  for (int64_t i = grid_start(); i < d.n; i += grid_stride()) {
    Point* pts = points + i * 2 * d.h;
    int64_t count = 0;
    for (int64_t y = 0; y < d.h; ++y) {
      const int64_t lo = first[i * d.h + y], hi = last[i * d.h + y];
      if (lo < 0) continue;
      pts[count++] = Point{lo, y};
      if (hi != lo) pts[count++] = Point{hi, y};
    }
    sizes[i] = monotone_hull(pts, count, hulls + i * 4 * d.h);
  }
}

// Covered columns [first, last] of every row, first > last when none.
__global__ void span_kernel(Dims d, const int32_t* boxes, const Point* hulls, const int64_t* sizes, int64_t* first,
                            int64_t* last) {
  const int64_t rows = d.n * d.h;
  for (int64_t r = grid_start(); r < rows; r += grid_stride()) {
    const int64_t i = r / d.h, y = r % d.h;
    const int32_t* box = boxes + 4 * i;
    int64_t lo = 1, hi = 0;
    if (sizes[i] > 0 && y >= box[1] && y < box[3]) {
      if (!hull_row_span(hulls + i * 4 * d.h, sizes[i], y, box[0], box[2], &lo, &hi)) {
        lo = 1;
        hi = 0;
      }
    }
    first[r] = lo;
    last[r] = hi;
  }
}

__global__ void fill_kernel(Dims d, const int64_t* first, const int64_t* last, uint8_t* out) {
  const int64_t total = d.n * d.h * d.w;
  for (int64_t p = grid_start(); p < total; p += grid_stride()) {
    const int64_t r = p / d.w, x = p % d.w;
    out[p] = static_cast<uint8_t>(first[r] <= x && x <= last[r]);
  }
}

}  // namespace

void convex_hulls(const uint64_t* bits, const Dims& d, const int32_t* boxes, uint8_t* out, int device,
                  Stream stream) {
  const int64_t rows = d.n * d.h;
  if (rows * d.w == 0) return;
  DeviceGuard guard(device);
  cudaStream_t s = as_stream(stream);
  // Scratch, stream-ordered: first/last per row, 2 h points and 4 h hull vertices per mask, sizes.
  const size_t row_bytes = sizeof(int64_t) * rows;
  const size_t point_bytes = sizeof(Point) * 2 * rows;
  const size_t hull_bytes = sizeof(Point) * 4 * rows;
  const size_t size_bytes = sizeof(int64_t) * d.n;
  char* scratch = nullptr;
  check(cudaMallocAsync(reinterpret_cast<void**>(&scratch), 2 * row_bytes + point_bytes + hull_bytes + size_bytes, s),
        "cudaMallocAsync");
  auto* first = reinterpret_cast<int64_t*>(scratch);
  auto* last = reinterpret_cast<int64_t*>(scratch + row_bytes);
  auto* points = reinterpret_cast<Point*>(scratch + 2 * row_bytes);
  auto* hulls = reinterpret_cast<Point*>(scratch + 2 * row_bytes + point_bytes);
  auto* sizes = reinterpret_cast<int64_t*>(scratch + 2 * row_bytes + point_bytes + hull_bytes);
  extremes_kernel<<<blocks_for(rows), kThreads, 0, s>>>(bits, d, first, last);
  check_launch("extremes_kernel");
  hull_kernel<<<blocks_for(d.n), kThreads, 0, s>>>(d, first, last, points, hulls, sizes);
  check_launch("hull_kernel");
  span_kernel<<<blocks_for(rows), kThreads, 0, s>>>(d, boxes, hulls, sizes, first, last);
  check_launch("span_kernel");
  fill_kernel<<<blocks_for(rows * d.w), kThreads, 0, s>>>(d, first, last, out);
  check_launch("fill_kernel");
  check(cudaFreeAsync(scratch, s), "cudaFreeAsync");
}

}  // namespace interorder::cuda
