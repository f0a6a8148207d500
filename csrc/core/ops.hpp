// CPU mask kernels on bit-packed masks (layout in bits.hpp). Callers validate shapes and
// indices; these functions trust their arguments and never allocate Python objects.
#pragma once

#include <cstdint>

#include "bits.hpp"

namespace interorder {

// A strided (N, H, W) stack of one-byte values (bool or uint8); nonzero is "set".
struct ByteStack {
  const uint8_t* data = nullptr;
  int64_t stride_n = 0;  // strides in bytes, any sign
  int64_t stride_h = 0;
  int64_t stride_w = 0;
};

// Packs `src` into `bits` (n * h * words) and fills areas (n) and boxes (n * 4).
void pack(const ByteStack& src, const Dims& d, uint64_t* bits, int64_t* areas, int32_t* boxes);

// Expands `planes` packed planes of h rows into bytes 0/1, (planes, h, w) C order.
void unpack(const uint64_t* bits, int64_t planes, const Dims& d, uint8_t* out);

enum class Combine { kUnion, kIntersection };

// One (h, words) plane: union or intersection of the masks listed in `index` (count >= 1).
void combine(const uint64_t* bits, const Dims& d, const int64_t* index, int64_t count, Combine op,
             uint64_t* out);

// out &= ~other over one (h, words) plane.
void and_not(uint64_t* out, const uint64_t* other, const Dims& d);

// (n, n) pixel counts of mask_i & mask_j; the diagonal holds the areas.
void intersection_matrix(const uint64_t* bits, const Dims& d, const int32_t* boxes, const int64_t* areas,
                         int64_t* out);

// (n, n) 0/1: mask i dilated by a 3x3 cross touches mask j, i != j.
void bordering_matrix(const uint64_t* bits, const Dims& d, const int32_t* boxes, uint8_t* out);

// (n, h, w) bytes 0/1 of each mask's convex hull (pixel centres inside or on the hull);
// `out` must be zero on entry.
void convex_hulls(const uint64_t* bits, const Dims& d, const int32_t* boxes, uint8_t* out);

// (count, size, size) bytes 0/1: nearest-neighbour crop of mask index[b] in crop box b
// (count * 4 doubles x0, y0, x1, y1).
void crop_resize(const uint64_t* bits, const Dims& d, const int64_t* index, const double* crop_boxes,
                 int64_t count, int64_t size, uint8_t* out);

// Per item b of three strided (B, H, W) byte stacks: |amodal & ~target & partner|.
void growth_counts(const ByteStack& amodal, const ByteStack& target, const ByteStack& partner,
                   int64_t batch, int64_t h, int64_t w, int64_t* out);

}  // namespace interorder
