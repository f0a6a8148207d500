#include "threads.hpp"

#include <atomic>
#include <stdexcept>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace interorder {
namespace {

int default_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

std::atomic<int>& configured() {
  static std::atomic<int> value{default_threads()};
  return value;
}

// Below this many word operations a parallel region costs more than it saves.
constexpr int64_t kMinWorkPerThread = 1 << 16;

}  // namespace

int num_threads() { return configured().load(); }

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("number of threads must be >= 1, got " + std::to_string(n));
  configured().store(n);
}

int threads_for(int64_t work) {
  const int64_t useful = work / kMinWorkPerThread;
  const int n = num_threads();
  if (useful < 2) return 1;
  return useful < n ? static_cast<int>(useful) : n;
}

int thread_in_team() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

int threads_in_team() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace interorder
