#include <limits>

#include "seqrec/core/error.h"
#include "seqrec/data/schema.h"
#include "seqrec/model/embedding_table.h"
#include "vocab_parallel.h"

namespace seqrec::parallel::detail {

namespace {

// Every rank's queries, rank 0's first; exclude lists padded with kPaddingId to the
// widest of any rank.
struct Queries {
  Positions positions;
  torch::Tensor hidden;   // [total, dim]
  torch::Tensor exclude;  // [total, width], or undefined on every rank

  torch::Tensor exclude_of(const Block& b) const { return exclude.defined() ? exclude.slice(0, b.p0, b.p1) : exclude; }
};

Queries gather_queries(comm::Communicator& comm, const torch::Tensor& hidden, const torch::Tensor& exclude) {
  const std::vector<std::vector<int64_t>> sizes =
      all_sizes(comm, {hidden.size(0), exclude.defined() ? exclude.size(1) : -1});
  const std::vector<int64_t>& widths = sizes[1];
  const int64_t widest = *std::max_element(widths.begin(), widths.end());
  // Every rank sees every rank's choice, so all of them refuse a mix alike.
  if (widest >= 0 && *std::min_element(widths.begin(), widths.end()) < 0) {
    fail("ranking over a sharded table: exclude lists on some ranks but not on others");
  }
  Queries q{positions(comm.rank(), sizes[0]), {}, {}};
  q.hidden = gather_rows(comm, hidden.contiguous(), q.positions);
  if (exclude.defined()) {
    const torch::Tensor padded = torch::cat(
        {exclude.to(hidden.device(), torch::kLong),
         torch::full({exclude.size(0), widest - exclude.size(1)}, kPaddingId, hidden.options().dtype(torch::kLong))},
        1);
    q.exclude = gather_rows(comm, padded.contiguous(), q.positions);
  }
  return q;
}

torch::Tensor scores_of(const Queries& q, const LocalClasses& classes, const Block& b) {
  return q.hidden.slice(0, b.p0, b.p1).matmul(classes.weight.slice(0, b.c0, b.c1).t());
}

}  // namespace

torch::Tensor vocab_parallel_target_ranks(comm::Communicator& comm, const torch::Tensor& shard, int64_t rows,
                                          const torch::Tensor& hidden, const torch::Tensor& targets, int64_t first,
                                          const torch::Tensor& exclude) {
  torch::NoGradGuard no_grad;
  const Queries q = gather_queries(comm, hidden, exclude);
  const int64_t total = q.positions.total;
  const torch::Tensor t = gather_rows(comm, targets.to(hidden.device(), torch::kLong).contiguous(), q.positions);
  if (total > 0 && (t.min().item<int64_t>() < first || t.max().item<int64_t>() >= rows)) {
    fail("target ranks: targets outside the classes [", first, ", ", rows, ")");
  }
  const LocalClasses classes = local_classes(shard, first, comm.rank(), comm.size());

  // The target's score comes from its owner, read from the same product the owner
  // compares its other classes with, so that rounding cannot split an equal score.
  const bool one_block = total <= kPositionChunk && classes.count() <= kClassChunk;
  torch::Tensor kept;
  torch::Tensor target_scores = torch::zeros({total}, q.hidden.options());
  for_each_block(total, classes.count(), [&](const Block& b) {
    const torch::Tensor scores = scores_of(q, classes, b);
    const auto [inside, column] = classes.find(t.slice(0, b.p0, b.p1), b.c0, b.c1);
    target_scores.slice(0, b.p0, b.p1)
        .add_(scores.gather(1, column.unsqueeze(1)).squeeze(1).masked_fill(inside.logical_not(), 0));
    if (one_block) kept = scores;
  });
  comm.all_reduce(target_scores, comm::ReduceOp::Sum);

  torch::Tensor at_or_above = torch::zeros({total}, q.hidden.options().dtype(torch::kLong));
  for_each_block(total, classes.count(), [&](const Block& b) {
    const torch::Tensor scores =
        classes.excluded(one_block ? kept : scores_of(q, classes, b), q.exclude_of(b), b.c0, b.c1);
    const torch::Tensor target = target_scores.slice(0, b.p0, b.p1);
    // An excluded target still competes: count it once, as itself, not here.
    const auto [inside, column] = classes.find(t.slice(0, b.p0, b.p1), b.c0, b.c1);
    const torch::Tensor own_counted = inside & (scores.gather(1, column.unsqueeze(1)).squeeze(1) >= target);
    at_or_above.slice(0, b.p0, b.p1).add_((scores >= target.unsqueeze(1)).sum(1) - own_counted.to(torch::kLong));
  });
  comm.all_reduce(at_or_above, comm::ReduceOp::Sum);
  return at_or_above.slice(0, q.positions.offset, q.positions.offset + hidden.size(0));
}

std::pair<torch::Tensor, torch::Tensor> vocab_parallel_top_k(comm::Communicator& comm, const torch::Tensor& shard,
                                                             int64_t rows, const torch::Tensor& hidden, int64_t k,
                                                             int64_t first, const torch::Tensor& exclude) {
  torch::NoGradGuard no_grad;
  if (k < 1 || k > rows - first) fail("top-k: k must lie in [1, ", rows - first, "] (got ", k, ")");
  const Queries q = gather_queries(comm, hidden, exclude);
  const int64_t total = q.positions.total;
  const LocalClasses classes = local_classes(shard, first, comm.rank(), comm.size());

  // This rank's k best, padded where it has fewer than k classes with -inf and an id
  // that sorts after every real one: the merge below always has k real candidates.
  torch::Tensor best_scores = torch::full({total, k}, -std::numeric_limits<float>::infinity(), q.hidden.options());
  torch::Tensor best_ids =
      torch::full({total, k}, std::numeric_limits<int64_t>::max(), q.hidden.options().dtype(torch::kLong));
  for_each_block(total, classes.count(), [&](const Block& b) {
    // Columns [0, min(k, c0)) hold the best of the classes before this block.
    const int64_t before = std::min(k, b.c0);
    const int64_t after = std::min(k, b.c1);
    torch::Tensor scores = best_scores.slice(0, b.p0, b.p1);
    torch::Tensor ids = best_ids.slice(0, b.p0, b.p1);
    const auto [s, i] = model::best_of(
        torch::cat(
            {scores.slice(1, 0, before), classes.excluded(scores_of(q, classes, b), q.exclude_of(b), b.c0, b.c1)}, 1),
        torch::cat({ids.slice(1, 0, before), classes.ids(b.c0, b.c1).expand({b.p1 - b.p0, -1})}, 1), after);
    scores.slice(1, 0, after).copy_(s);
    ids.slice(1, 0, after).copy_(i);
  });

  // [ranks * total, k] -> [total, ranks * k]: every rank's candidates side by side.
  const auto side_by_side = [&](const torch::Tensor& t) {
    return comm.all_gather(t.contiguous()).view({comm.size(), total, k}).permute({1, 0, 2}).reshape({total, -1});
  };
  const auto [scores, ids] = model::best_of(side_by_side(best_scores), side_by_side(best_ids), k);
  const int64_t offset = q.positions.offset;
  return {scores.slice(0, offset, offset + hidden.size(0)), ids.slice(0, offset, offset + hidden.size(0))};
}

}  // namespace seqrec::parallel::detail
