#include "seqrec/train/agreed_batches.h"

namespace seqrec::train {

std::optional<Batch> next_agreed(const std::function<std::optional<Batch>()>& next, const Batch& empty,
                                 comm::Communicator& comm) {
  std::optional<Batch> batch = next();
  if (!comm.any(batch.has_value())) return std::nullopt;
  return batch ? std::move(batch) : empty;
}

}  // namespace seqrec::train
