// Negatives of the sampled evaluation protocol: the target is ranked among itself and S
// items drawn for its session, as papers that sample 100 negatives report.
//
// A session's negatives are S distinct items drawn from a distribution over item ids,
// never its target and, when asked, never an item of its history. Draws are keyed by
// (seed, session id, index, round): a draw that breaks a rule is redrawn in the next
// round under a seed of its own, so a session gets the same negatives on any rank, in any
// batch, on any number of ranks.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace seqrec::model {

// session_ids [B], targets [B], exclude [B, L] ids (undefined: none; kPaddingId entries
// ignored), cdf [V] as for sample_items (ids of zero probability are never drawn)
// -> [B, count] int64. UserError naming eval.sampled_negatives when a session has fewer
// than `count` items to draw from.
torch::Tensor draw_evaluation_negatives(const torch::Tensor& session_ids, const torch::Tensor& targets,
                                        const torch::Tensor& exclude, int64_t count, const torch::Tensor& cdf,
                                        uint64_t seed);

}  // namespace seqrec::model
