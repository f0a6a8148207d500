// Exemplar fill of an image region by PatchMatch (Barnes et al. 2009) over an image pyramid,
// in the style of Wexler et al. 2007: per level, nearest-neighbour-field search (propagation and
// random search) alternates with a vote that sets each hole pixel from the patches covering it.
// Patches are copied only from `source` pixels, so the caller decides what may be sampled
// (outside the hole, outside removed people, or one instance's own visible pixels).
#pragma once

#include <cstdint>

namespace interorder {

struct FillOptions {
  int patch_size = 7;      // odd side of the square patches
  int iterations = 6;         // search + vote rounds at the coarsest level; halved per finer level
  int finest_iterations = 0;  // rounds at the full-size level; 0: its upsampled field is only voted
  int coarsest_side = 40;  // the pyramid stops once the longer side would drop below this
  int local_radius = 8;    // random-search radius at every level but the coarsest, in pixels
  uint32_t seed = 0;
};

// Number of pyramid levels for an h x w region (the first, full-size one included).
int fill_levels(int h, int w, const FillOptions& options);

// Fills the `hole` pixels of the (h, w, 3) uint8 C-order image `rgb` in place from patches
// lying entirely in `source` (hole pixels never count as source). Returns false, leaving `rgb`
// untouched, when no such patch exists.
//
// `shown` (an (h, w) plane, or null for all) marks the hole pixels whose fill will be seen; the
// others (under an opaque new person) keep their input colours. With finest_iterations = 0 the
// full-size level then scores and votes only what the shown pixels need, and they come out
// exactly as in the whole fill: the coarser levels still solve the whole hole.
//
// The CPU fill keeps its scratch buffers per calling thread from call to call (as large as the
// largest region that thread filled), so a stream of fills touches no fresh memory pages.
bool patchmatch_fill(uint8_t* rgb, const uint8_t* hole, const uint8_t* source, int h, int w,
                     const FillOptions& options, const uint8_t* shown = nullptr);

}  // namespace interorder
