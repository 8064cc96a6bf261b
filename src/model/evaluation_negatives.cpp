#include "seqrec/model/evaluation_negatives.h"

#include "seqrec/core/error.h"
#include "seqrec/core/rng.h"
#include "seqrec/data/schema.h"
#include "seqrec/model/keyed_random.h"

namespace seqrec::model {

namespace {

// Rounds of redraws before giving up on a session that could have its negatives but is
// unlikely to draw them (a few items of tiny probability left).
constexpr int64_t kMaxRounds = 10000;

// [B, S]: entries that equal the target, an excluded item or an earlier entry of the row.
torch::Tensor rejected(const torch::Tensor& negatives, const torch::Tensor& targets, const torch::Tensor& exclude) {
  torch::Tensor bad = negatives == targets.unsqueeze(1);
  if (exclude.defined() && exclude.numel() > 0) {
    bad = bad | (negatives.unsqueeze(2) == exclude.unsqueeze(1)).any(2);
  }
  const int64_t s = negatives.size(1);
  const torch::Tensor earlier = torch::ones({s, s}, torch::kBool).tril(-1);
  return bad | ((negatives.unsqueeze(2) == negatives.unsqueeze(1)) & earlier).any(2);
}

// [B]: items each session may draw: of positive probability, neither its target nor in
// its excluded history (each counted once).
torch::Tensor drawable(const torch::Tensor& cdf, const torch::Tensor& targets, const torch::Tensor& exclude) {
  const torch::Tensor possible = torch::diff(cdf, 1, 0, torch::zeros({1}, cdf.options())) > 0;
  torch::Tensor out = possible.sum() - possible.index_select(0, targets).to(torch::kLong);
  if (!exclude.defined() || exclude.numel() == 0) return out;
  const torch::Tensor counted = possible.index({exclude}) & (exclude != targets.unsqueeze(1));
  const torch::Tensor sorted = std::get<0>(exclude.masked_fill(counted.logical_not(), -1).sort(1));
  const torch::Tensor first = torch::ones({sorted.size(0), 1}, torch::kBool);
  const torch::Tensor fresh = torch::cat({first, sorted.slice(1, 1) != sorted.slice(1, 0, -1)}, 1);
  return out - ((sorted >= 0) & fresh).sum(1);
}

}  // namespace

torch::Tensor draw_evaluation_negatives(const torch::Tensor& session_ids, const torch::Tensor& targets,
                                        const torch::Tensor& exclude, int64_t count, const torch::Tensor& cdf,
                                        uint64_t seed) {
  torch::NoGradGuard no_grad;
  const torch::Tensor keys = session_ids.to(torch::kLong).unsqueeze(1) * count +
                             torch::arange(count, torch::kLong).unsqueeze(0);
  const torch::Tensor target_ids = targets.to(torch::kLong);
  // Padding ids in the history would reject nothing a real draw can be.
  const torch::Tensor excluded = exclude.defined() ? exclude.to(torch::kLong) : exclude;
  const torch::Tensor short_rows = (drawable(cdf, target_ids, excluded) < count).nonzero();
  if (short_rows.size(0) > 0) {
    fail("eval.sampled_negatives: session ", session_ids[short_rows[0][0]].item<int64_t>(), " has fewer than ", count,
         " items to sample as negatives besides its target", excluded.defined() ? " and its history" : "",
         "; lower the count");
  }
  torch::Tensor negatives = torch::full(keys.sizes(), kPaddingId, torch::kLong);
  torch::Tensor pending = torch::ones(keys.sizes(), torch::kBool);
  for (int64_t round = 0; round < kMaxRounds; ++round) {
    const torch::Tensor draws = sample_items(
        keyed_uniform(keys.masked_select(pending), derive_seed(seed, {static_cast<uint64_t>(round)})), cdf);
    negatives = negatives.masked_scatter(pending, draws);
    pending = rejected(negatives, target_ids, excluded);
    if (!pending.any().item<bool>()) return negatives;
  }
  fail("eval.sampled_negatives: ", kMaxRounds, " rounds of draws left a session short of ", count,
       " distinct negatives (a distribution concentrated on few items?)");
}

}  // namespace seqrec::model
