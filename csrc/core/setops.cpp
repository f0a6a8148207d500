// Union, intersection and relative complement of packed masks, word by word.
#include <algorithm>

#include "ops.hpp"
#include "threads.hpp"

namespace interorder {
namespace {

constexpr int64_t kChunkWords = 1024;  // words per work item: a few cache lines per mask

}  // namespace

void combine(const uint64_t* bits, const Dims& d, const int64_t* index, int64_t count, Combine op,
             uint64_t* out) {
  const int64_t plane = d.mask_stride();
  const int64_t chunks = (plane + kChunkWords - 1) / kChunkWords;
#pragma omp parallel for schedule(static) num_threads(threads_for(count * plane))
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kChunkWords, end = std::min(plane, begin + kChunkWords);
    const uint64_t* first = bits + index[0] * plane;
    std::copy(first + begin, first + end, out + begin);
    for (int64_t k = 1; k < count; ++k) {
      const uint64_t* src = bits + index[k] * plane;
      if (op == Combine::kUnion) {
        for (int64_t w = begin; w < end; ++w) out[w] |= src[w];
      } else {
        for (int64_t w = begin; w < end; ++w) out[w] &= src[w];
      }
    }
  }
}

void and_not(uint64_t* out, const uint64_t* other, const Dims& d) {
  const int64_t plane = d.mask_stride();
#pragma omp parallel for schedule(static) num_threads(threads_for(plane))
  for (int64_t w = 0; w < plane; ++w) out[w] &= ~other[w];
}

}  // namespace interorder
