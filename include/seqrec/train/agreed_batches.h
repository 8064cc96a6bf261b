// The next batch of every rank, with the end of the data agreed by all of them.
//
// Each step's collectives need every rank. A rank whose data ran out while others still
// have some joins with an empty batch instead of leaving them waiting; the loop ends for
// all ranks in the same call, once no rank has a batch left.
#pragma once

#include <functional>
#include <optional>

#include "seqrec/comm/communicator.h"
#include "seqrec/data/batch.h"

namespace seqrec::train {

// next: this rank's source; empty: a batch of no sessions with the source's columns.
std::optional<Batch> next_agreed(const std::function<std::optional<Batch>()>& next, const Batch& empty,
                                 comm::Communicator& comm);

}  // namespace seqrec::train
