// Compute threads per rank.
//
// LibTorch's intra-op pool and OpenBLAS's own pool are separate, and both default to
// every core: with several ranks on a node they oversubscribe the cores many times over.
// Each rank gets the node's cores divided by the ranks on the node for LibTorch's pool,
// and OpenBLAS one thread, called from inside LibTorch's parallel regions. With two
// threads in one process on the 2-core machine (benchmarks/README.md): SASRec BCE steps
// 789 sequences/s with both pools at 2 threads, 1,922 with OpenBLAS alone at 2, 2,093
// with LibTorch alone at 2, 1,552-1,611 with one thread.
#pragma once

namespace seqrec {

// Ranks on this node, from the launcher (Open MPI, Slurm); 1 without one.
int local_ranks_from_environment();

// The threads one rank should use: `requested` if positive, else cores / local ranks.
int threads_per_rank(int requested);

// Sets LibTorch's intra-op threads, and OpenBLAS's to one when it is the BLAS in use.
void configure_threads(int threads);

}  // namespace seqrec
