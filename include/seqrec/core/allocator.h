// Host memory a process frees stays with it for its next allocations.
//
// glibc hands large freed blocks back to the kernel (chunks above a threshold are mapped
// and unmapped one by one; the heap's top is trimmed past another threshold, both moving
// with the frees), so a training step that frees its activations faults them in again at
// the next step, page by page, zeroed: 15-35% of a small SASRec step on the 2-core
// machine (benchmarks/README.md). PyTorch's GPU allocator keeps freed blocks for the same
// reason. The process's resident memory then stays at its peak.
#pragma once

namespace seqrec {

// Call at the start of main, before any thread allocates. No-op outside glibc.
void keep_freed_memory();

}  // namespace seqrec
