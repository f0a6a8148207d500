// CPU compositing (composite.hpp): layers in turn, the rows of each layer's box shared by threads.
#include "composite.hpp"

#include "composite_math.hpp"
#include "threads.hpp"

namespace interorder {

void paint_layers(const PaintLayer* layers, int64_t count, const Canvas& canvas) {
  for (int64_t k = 0; k < count; ++k) {
    const PaintLayer& layer = layers[k];
    int64_t box[4];
    clipped_box(layer, canvas, box);
    const int64_t rows = box[3] - box[1], cols = box[2] - box[0];
    if (rows <= 0 || cols <= 0) continue;
#pragma omp parallel for schedule(static) num_threads(threads_for(rows * cols))
    for (int64_t y = box[1]; y < box[3]; ++y) {
      for (int64_t x = box[0]; x < box[2]; ++x) paint_pixel(layer, static_cast<int32_t>(k), y * canvas.w + x, canvas);
    }
  }
}

}  // namespace interorder
