#include "seqrec/core/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace seqrec {

void keep_freed_memory() {
#if defined(__GLIBC__)
  // Every block from the heap, none mapped alone (glibc still maps when the heap cannot
  // grow), and the heap's free top kept up to 1 GiB.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace seqrec
