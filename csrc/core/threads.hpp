// Thread count used by every OpenMP region of the CPU kernels.
#pragma once

#include <cstdint>

namespace interorder {

// Threads the kernels use; defaults to OpenMP's maximum (the machine's cores unless
// OMP_NUM_THREADS says otherwise). 1 when built without OpenMP.
int num_threads();

// Sets the thread count for all later kernel calls, from any Python thread; n >= 1.
void set_num_threads(int n);

// Threads for a loop of `work` elementary operations: 1 when the work is too small to share.
int threads_for(int64_t work);

// Inside a parallel region: the calling thread's index and the team's size (0 and 1 outside one).
int thread_in_team();
int threads_in_team();

bool openmp_enabled();

}  // namespace interorder
