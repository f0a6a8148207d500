// Packing byte masks into bits (with areas and boxes), and expanding bits back to bytes.
#include <algorithm>
#include <cstring>
#include <vector>

#include "ops.hpp"
#include "threads.hpp"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the packed layout assumes a little-endian host");

namespace interorder {
namespace {

// Bit i of the result is set when byte i of the 8 bytes at p is nonzero.
inline uint64_t nonzero_bits8(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  v |= v >> 4;
  v |= v >> 2;
  v |= v >> 1;
  v &= 0x0101010101010101ULL;
  return (v * 0x0102040810204080ULL) >> 56;
}

// One packed word from up to 64 contiguous bytes.
inline uint64_t pack_contiguous(const uint8_t* p, int64_t count) {
  uint64_t word = 0;
  int64_t x = 0;
#ifdef __SSE2__
  const __m128i zero = _mm_setzero_si128();
  for (; x + 16 <= count; x += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + x));
    const uint64_t is_zero = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)));
    word |= (~is_zero & 0xFFFFu) << x;
  }
#endif
  for (; x + 8 <= count; x += 8) word |= nonzero_bits8(p + x) << x;
  for (; x < count; ++x) word |= uint64_t{p[x] != 0} << x;
  return word;
}

inline uint64_t pack_strided(const uint8_t* p, int64_t stride, int64_t count) {
  uint64_t word = 0;
  for (int64_t x = 0; x < count; ++x) word |= uint64_t{p[x * stride] != 0} << x;
  return word;
}

struct RowStats {
  int64_t area;
  int64_t x0;  // first set column, w when the row is empty
  int64_t x1;  // one past the last set column, 0 when the row is empty
};

RowStats pack_row(const uint8_t* src, int64_t stride_w, const Dims& d, uint64_t* row) {
  RowStats s{0, d.w, 0};
  for (int64_t k = 0; k < d.words; ++k) {
    const int64_t x = k * 64;
    const int64_t count = std::min<int64_t>(64, d.w - x);
    const uint64_t word = stride_w == 1 ? pack_contiguous(src + x, count) : pack_strided(src + x * stride_w, stride_w, count);
    row[k] = word;
    if (word) {
      s.area += popcount64(word);
      s.x0 = std::min(s.x0, x + lowest_bit(word));
      s.x1 = x + highest_bit(word) + 1;
    }
  }
  return s;
}

// kSpread[b] holds the 8 bytes 0/1 of the bits of b, lowest bit in the first byte.
struct SpreadTable {
  uint64_t bytes[256];
  SpreadTable() {
    for (int b = 0; b < 256; ++b) {
      uint64_t v = 0;
      for (int i = 0; i < 8; ++i) v |= uint64_t((b >> i) & 1) << (8 * i);
      bytes[b] = v;
    }
  }
};
const SpreadTable kSpread;

}  // namespace

void pack(const ByteStack& src, const Dims& d, uint64_t* bits, int64_t* areas, int32_t* boxes) {
  const int64_t rows = d.n * d.h;
  std::vector<RowStats> stats(static_cast<size_t>(rows));
#pragma omp parallel for schedule(static) num_threads(threads_for(rows * d.w / 8))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = r / d.h, y = r % d.h;
    stats[r] = pack_row(src.data + i * src.stride_n + y * src.stride_h, src.stride_w, d, bits + r * d.words);
  }
  for (int64_t i = 0; i < d.n; ++i) {
    int64_t area = 0, x0 = d.w, x1 = 0, y0 = d.h, y1 = 0;
    for (int64_t y = 0; y < d.h; ++y) {
      const RowStats& s = stats[i * d.h + y];
      if (s.area == 0) continue;
      area += s.area;
      x0 = std::min(x0, s.x0);
      x1 = std::max(x1, s.x1);
      y0 = std::min(y0, y);
      y1 = y + 1;
    }
    areas[i] = area;
    int32_t* box = boxes + 4 * i;
    if (area == 0) {
      box[0] = box[1] = box[2] = box[3] = 0;
    } else {
      box[0] = static_cast<int32_t>(x0);
      box[1] = static_cast<int32_t>(y0);
      box[2] = static_cast<int32_t>(x1);
      box[3] = static_cast<int32_t>(y1);
    }
  }
}

void unpack(const uint64_t* bits, int64_t planes, const Dims& d, uint8_t* out) {
  const int64_t rows = planes * d.h;
#pragma omp parallel for schedule(static) num_threads(threads_for(rows * d.w / 4))
  for (int64_t r = 0; r < rows; ++r) {
    const uint64_t* row = bits + r * d.words;
    uint8_t* dst = out + r * d.w;
    int64_t x = 0;
    for (; x + 8 <= d.w; x += 8) std::memcpy(dst + x, &kSpread.bytes[(row[x >> 6] >> (x & 63)) & 0xFF], 8);
    for (; x < d.w; ++x) dst[x] = static_cast<uint8_t>((row[x >> 6] >> (x & 63)) & 1);
  }
}

}  // namespace interorder
