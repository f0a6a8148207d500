// Bit-packed mask layout and word-level helpers shared by the CPU kernels.
//
// N masks of H x W pixels are stored as N * H rows of `words` = ceil(W / 64) uint64 words; pixel x
// of a row is bit (x % 64) of word (x / 64), least significant bit first. Bits at x >= W are zero.
// A box is (x0, y0, x1, y1) with exclusive ends; an empty mask has box (0, 0, 0, 0).
#pragma once

#include <cstdint>

namespace interorder {

struct Dims {
  int64_t n = 0;      // number of masks
  int64_t h = 0;      // rows
  int64_t w = 0;      // columns (pixels)
  int64_t words = 0;  // uint64 words per row, ceil(w / 64)

  int64_t mask_stride() const { return h * words; }  // words per mask
};

inline int64_t words_for_width(int64_t w) { return (w + 63) / 64; }

// Hot word loops are compiled twice on x86-64 (with and without the POPCNT instruction) and
// the loader picks the one the CPU supports; elsewhere the compiler's default is used.
#if defined(__x86_64__) && defined(__linux__) && !defined(__POPCNT__) && (defined(__GNUC__) || defined(__clang__))
#define INTERORDER_MULTIVERSION __attribute__((target_clones("popcnt", "default")))
#else
#define INTERORDER_MULTIVERSION
#endif

inline int popcount64(uint64_t x) { return __builtin_popcountll(x); }

inline int lowest_bit(uint64_t x) { return __builtin_ctzll(x); }   // x != 0

inline int highest_bit(uint64_t x) { return 63 - __builtin_clzll(x); }  // x != 0

// Word range [first, last] that covers the pixel columns [x0, x1), x0 < x1.
inline int64_t first_word(int64_t x0) { return x0 >> 6; }
inline int64_t last_word(int64_t x1) { return (x1 - 1) >> 6; }

}  // namespace interorder
