#include "checks/huge_heap.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

namespace cnm {

void use_huge_pages_for_big_allocations(std::size_t bytes) {
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  // glibc serves blocks above M_MMAP_THRESHOLD (128 KiB, growing) with mmap and gives freed heap
  // back above M_TRIM_THRESHOLD: both raised, the big blocks come from, and stay in, the region
  // grown below.
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes + kHuge)) != 1 ||
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * bytes)) != 1)
    return;
  void* p = std::malloc(bytes);
  if (!p) return;
  const auto start = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(kHuge - 1);
  // Untouched yet: the pages are allocated (huge) on first use. Best effort: no THP, no change.
  if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
  std::free(p);
}

}  // namespace cnm
