// Nearest-neighbour crops of packed masks and the growth counts measured on such crops.
#include <vector>

#include "crop_math.hpp"
#include "ops.hpp"
#include "threads.hpp"

namespace interorder {

void crop_resize(const uint64_t* bits, const Dims& d, const int64_t* index, const double* crop_boxes,
                 int64_t count, int64_t size, uint8_t* out) {
#pragma omp parallel num_threads(threads_for(count * size * size / 4))
  {
    std::vector<int64_t> sx(static_cast<size_t>(size)), sy(static_cast<size_t>(size));
#pragma omp for schedule(static)
    for (int64_t b = 0; b < count; ++b) {
      const double* box = crop_boxes + 4 * b;
      const double step_x = (box[2] - box[0]) / static_cast<double>(size);
      const double step_y = (box[3] - box[1]) / static_cast<double>(size);
      for (int64_t u = 0; u < size; ++u) {
        sx[u] = crop_source(box[0], step_x, u, d.w);
        sy[u] = crop_source(box[1], step_y, u, d.h);
      }
      const uint64_t* mask = bits + index[b] * d.mask_stride();
      uint8_t* dst = out + b * size * size;
      for (int64_t v = 0; v < size; ++v) {
        uint8_t* line = dst + v * size;
        if (sy[v] < 0) {
          for (int64_t u = 0; u < size; ++u) line[u] = 0;
          continue;
        }
        const uint64_t* row = mask + sy[v] * d.words;
        for (int64_t u = 0; u < size; ++u) {
          const int64_t x = sx[u];
          line[u] = x < 0 ? 0 : static_cast<uint8_t>((row[x >> 6] >> (x & 63)) & 1);
        }
      }
    }
  }
}

void growth_counts(const ByteStack& amodal, const ByteStack& target, const ByteStack& partner,
                   int64_t batch, int64_t h, int64_t w, int64_t* out) {
#pragma omp parallel for schedule(static) num_threads(threads_for(batch * h * w / 4))
  for (int64_t b = 0; b < batch; ++b) {
    int64_t total = 0;
    for (int64_t y = 0; y < h; ++y) {
      const uint8_t* a = amodal.data + b * amodal.stride_n + y * amodal.stride_h;
      const uint8_t* t = target.data + b * target.stride_n + y * target.stride_h;
      const uint8_t* p = partner.data + b * partner.stride_n + y * partner.stride_h;
      if (amodal.stride_w == 1 && target.stride_w == 1 && partner.stride_w == 1) {
        for (int64_t x = 0; x < w; ++x) total += (a[x] != 0) & (t[x] == 0) & (p[x] != 0);
      } else {
        for (int64_t x = 0; x < w; ++x) {
          total += (a[x * amodal.stride_w] != 0) & (t[x * target.stride_w] == 0) & (p[x * partner.stride_w] != 0);
        }
      }
    }
    out[b] = total;
  }
}

}  // namespace interorder
