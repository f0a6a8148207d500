// Marks helpers compiled for both the CPU kernels and the CUDA kernels.
#pragma once

#ifdef __CUDACC__
#define INTERORDER_HD __host__ __device__ __forceinline__
#else
#define INTERORDER_HD inline
#endif
