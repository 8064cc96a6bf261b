#include <limits>

#include "seqrec/core/error.h"
#include "seqrec/model/embedding_table.h"
#include "seqrec/model/keyed_random.h"
#include "vocab_parallel.h"

namespace seqrec::parallel::detail {

torch::Tensor vocab_parallel_sample(comm::Communicator& comm, const torch::Tensor& shard, int64_t rows,
                                    const torch::Tensor& hidden, const torch::Tensor& keys, int64_t first,
                                    uint64_t seed) {
  torch::NoGradGuard no_grad;
  if (first >= rows) fail("sample: no classes in [", first, ", ", rows, ")");
  const Positions p = positions(comm.rank(), all_sizes(comm, {hidden.size(0)})[0]);
  const torch::Tensor all_hidden = gather_rows(comm, hidden.contiguous(), p);
  const torch::Tensor all_keys = gather_rows(comm, keys.to(hidden.device(), torch::kLong).contiguous(), p);
  const LocalClasses classes = local_classes(shard, first, comm.rank(), comm.size());

  // This rank's best class per position; a rank without classes offers -inf and an id
  // that loses every tie.
  torch::Tensor best_scores =
      torch::full({p.total, 1}, -std::numeric_limits<float>::infinity(), all_hidden.options());
  torch::Tensor best_ids =
      torch::full({p.total, 1}, std::numeric_limits<int64_t>::max(), all_hidden.options().dtype(torch::kLong));
  for_each_block(p.total, classes.count(), [&](const Block& b) {
    const torch::Tensor ids = classes.ids(b.c0, b.c1);
    const torch::Tensor scores =
        all_hidden.slice(0, b.p0, b.p1).matmul(classes.weight.slice(0, b.c0, b.c1).t()) +
        model::keyed_gumbel(all_keys.slice(0, b.p0, b.p1), ids, seed);
    const auto [score, column] = scores.max(1, /*keepdim=*/true);
    // Blocks visit classes in ascending id: a later equal maximum loses.
    const torch::Tensor better = score > best_scores.slice(0, b.p0, b.p1);
    best_scores.slice(0, b.p0, b.p1).copy_(torch::where(better, score, best_scores.slice(0, b.p0, b.p1)));
    best_ids.slice(0, b.p0, b.p1).copy_(torch::where(better, ids.index({column}), best_ids.slice(0, b.p0, b.p1)));
  });

  // [ranks * total, 1] -> [total, ranks]: every rank's candidate side by side.
  const auto side_by_side = [&](const torch::Tensor& t) {
    return comm.all_gather(t.contiguous()).view({comm.size(), p.total}).t();
  };
  const torch::Tensor winner = model::best_of(side_by_side(best_scores), side_by_side(best_ids), 1).second;
  return winner.squeeze(1).slice(0, p.offset, p.offset + hidden.size(0));
}

}  // namespace seqrec::parallel::detail
