#include "seqrec/model/stochastic_shared_embeddings.h"

#include "seqrec/data/schema.h"
#include "seqrec/model/keyed_random.h"

namespace seqrec::model {

torch::Tensor swap_ids(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& keys,
                       double probability, int64_t cardinality, uint64_t seed) {
  const torch::Tensor swapped =
      (keyed_uniform(keys, draw_seed(seed, Draw::SwapChoice)) < probability) & mask & (ids >= kFirstRealId);
  const int64_t real_ids = cardinality - kFirstRealId;
  const torch::Tensor drawn =
      kFirstRealId +
      (keyed_uniform(keys, draw_seed(seed, Draw::SwapId)) * real_ids).to(torch::kInt64).clamp_max(real_ids - 1);
  return torch::where(swapped, drawn, ids);
}

}  // namespace seqrec::model
