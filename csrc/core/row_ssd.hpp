// Sum of squared differences of two rows of bytes, the inner loop of the PatchMatch distance:
// SSE2 for the CPU kernel on x86-64, the plain loop elsewhere (the CUDA twin, other CPUs). Both
// read exactly the row's bytes and give the same integer.
#pragma once

#include <cstdint>

#include "hostdevice.hpp"

#if defined(__SSE2__) && !defined(__CUDACC__)
#include <emmintrin.h>
#define INTERORDER_ROW_SSD_SSE2 1
#endif

namespace interorder::pm {

#ifdef INTERORDER_ROW_SSD_SSE2
// Squared differences of 8 bytes as 4 int32 lanes; `keep` zeroes the 16-bit lanes already counted.
inline __m128i ssd8(const uint8_t* a, const uint8_t* b, __m128i keep) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i va = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(a)), zero);
  const __m128i vb = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b)), zero);
  const __m128i d = _mm_and_si128(_mm_sub_epi16(va, vb), keep);
  return _mm_madd_epi16(d, d);
}

inline __m128i ssd16(const uint8_t* a, const uint8_t* b) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  const __m128i vb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
  const __m128i lo = _mm_sub_epi16(_mm_unpacklo_epi8(va, zero), _mm_unpacklo_epi8(vb, zero));
  const __m128i hi = _mm_sub_epi16(_mm_unpackhi_epi8(va, zero), _mm_unpackhi_epi8(vb, zero));
  return _mm_add_epi32(_mm_madd_epi16(lo, lo), _mm_madd_epi16(hi, hi));
}

inline int32_t lanes_sum(__m128i v) {
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(v);
}

// The 16-bit lanes from `first` on: the bytes an overlapping load has not counted yet.
inline __m128i lanes_from(int first) {
  const __m128i index = _mm_set_epi16(7, 6, 5, 4, 3, 2, 1, 0);
  return _mm_cmpgt_epi16(index, _mm_set1_epi16(static_cast<int16_t>(first - 1)));
}
#endif

// SSD of `Span` bytes (0: `span` at run time). The shipped patch rows, 21, 15 and 9 bytes
// (7, 5 and 3 RGB pixels), are read as overlapping 16- and 8-byte loads, never past the row.
template <int Span>
INTERORDER_HD int32_t row_ssd(const uint8_t* a, const uint8_t* b, int span) {
#ifdef INTERORDER_ROW_SSD_SSE2
  if constexpr (Span == 21) {  // bytes 0..15, then 13..20 of which 13..15 are counted
    return lanes_sum(_mm_add_epi32(ssd16(a, b), ssd8(a + 13, b + 13, lanes_from(3))));
  } else if constexpr (Span == 15) {  // bytes 0..7, then 7..14 of which 7 is counted
    return lanes_sum(_mm_add_epi32(ssd8(a, b, lanes_from(0)), ssd8(a + 7, b + 7, lanes_from(1))));
  } else if constexpr (Span == 9) {  // bytes 0..7, then 1..8 of which only 8 is new
    return lanes_sum(_mm_add_epi32(ssd8(a, b, lanes_from(0)), ssd8(a + 1, b + 1, lanes_from(7))));
  }
#endif
  const int n = Span ? Span : span;
  int32_t row = 0;
  for (int k = 0; k < n; ++k) {
    const int32_t d = static_cast<int32_t>(a[k]) - static_cast<int32_t>(b[k]);
    row += d * d;
  }
  return row;
}

}  // namespace interorder::pm
