// CPU Telea fill (telea.hpp): one image on the calling thread, scratch on the heap.
#include "telea.hpp"

#include <vector>

#include "telea_math.hpp"

namespace interorder {

void telea_inpaint(uint8_t* rgb, const uint8_t* unknown, int h, int w, int radius) {
  if (h <= 0 || w <= 0) return;
  const size_t n = static_cast<size_t>(h) * w;
  std::vector<uint8_t> flags(n), mark(n);
  std::vector<float> time(n);
  std::vector<telea::HeapEntry> heap(n);
  const int r = telea::clamp_radius(radius);
  std::vector<float> dst(static_cast<size_t>(2 * r + 1) * (2 * r + 1));
  const telea::Planes planes{rgb, unknown, h, w, flags.data(), mark.data(), time.data(), heap.data()};
  telea::inpaint(planes, r, dst.data());
}

}  // namespace interorder
