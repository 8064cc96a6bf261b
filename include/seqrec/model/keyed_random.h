// Random draws keyed by what they are for, not by the order they are drawn in.
//
// A mask or a negative drawn for (step, session, slot) is the same whichever rank holds
// the session and however many ranks share the step, so N ranks train what one rank
// trains, and a resumed step redraws exactly what the interrupted one drew.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace seqrec::model {

// What a draw is for. Each purpose draws from its own stream of the step's seed: with one
// stream, a slot's mask and its negative would read the same uniform, and MLM's hidden
// slots (u < p) would only ever get the most popular items (lowest ids) as negatives.
enum class Draw : uint64_t {
  Mask = 1,
  MaskFallback,
  Negative,
  SwapChoice,
  SwapId,
  SpanLength,   // plm
  SpanPlace,
  ForcedTarget,
  Order,
  Replacement,  // rtd: the generator's draws
};

// The seed of `purpose`'s stream within a step.
uint64_t draw_seed(uint64_t step_seed, Draw purpose);

// keys (int64, any shape) -> uniforms in [0, 1), float32, same shape; each a function of
// (seed, key) only.
torch::Tensor keyed_uniform(const torch::Tensor& keys, uint64_t seed);

// Gumbel(0, 1) noise for every pair of keys [N] and ids [C] (int64) -> [N, C] float32,
// each value a function of (seed, key, id) only: an item's noise for a position is the
// same whichever chunk of the catalog, or rank's share of it, scores the item. The item
// maximising logit + noise is a draw from the softmax of the logits (Gumbel-max).
torch::Tensor keyed_gumbel(const torch::Tensor& keys, const torch::Tensor& ids, uint64_t seed);

// Items drawn by inverse CDF: uniforms (any shape) and cdf [V], the running sum of a
// sampling distribution over item ids (cdf[V-1] = 1) -> ids of the same shape.
torch::Tensor sample_items(const torch::Tensor& uniforms, const torch::Tensor& cdf);

// keyed_uniform and keyed_gumbel in elementwise tensor operations where the keys are: what
// those two compute for keys off the CPU, so that a GPU draws without a copy to the host
// and back (a wait inside the step). The CPU computes the same values in a scalar loop,
// faster there: bit for bit for uniforms, to float32 rounding of the logs for Gumbel noise.
torch::Tensor keyed_uniform_elementwise(const torch::Tensor& keys, uint64_t seed);
torch::Tensor keyed_gumbel_elementwise(const torch::Tensor& keys, const torch::Tensor& ids, uint64_t seed);

// One key per slot of a batch: session_ids [B] (rows of sessions.tsv) and slots L ->
// [B, L] session_id * L + slot, unique within a step over all ranks.
torch::Tensor slot_keys(const torch::Tensor& session_ids, int64_t length);

}  // namespace seqrec::model
