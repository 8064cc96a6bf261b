// Compute threads per rank.
//
// LibTorch's intra-op pool and OpenBLAS's own pool are separate, and both default to
// every core: with several ranks on a node they oversubscribe the cores many times over.
// Each rank gets the node's cores divided by the ranks on the node, for both pools.
#pragma once

namespace seqrec {

// Ranks on this node, from the launcher (Open MPI, Slurm); 1 without one.
int local_ranks_from_environment();

// The threads one rank should use: `requested` if positive, else cores / local ranks.
int threads_per_rank(int requested);

// Sets LibTorch's intra-op threads and, when OpenBLAS is the BLAS in use, its pool.
void configure_threads(int threads);

}  // namespace seqrec
