// Backs this process's big allocations with transparent huge pages. A first preflight on a host
// has libbpf read the kernel's BTF (5.5 MB on 6.18) into a buffer and copy it into another, then
// index its 125k types: ~3000 fresh 4 KiB pages, each a page fault, ~4 ms of a 40 ms run on this
// VM. From 2 MiB pages the same memory costs a handful of faults. Kernels with THP off (or
// "never") ignore the advice; nothing else changes.
#pragma once

#include <cstddef>

namespace cnm {

// Makes allocations up to `bytes` come from the heap (not a fresh mapping each), keeps that much
// of it, and advises huge pages over it. Call it once, before the big allocations, in a
// single-threaded process (other threads' allocations use other arenas).
void use_huge_pages_for_big_allocations(std::size_t bytes = std::size_t{48} << 20);

}  // namespace cnm
