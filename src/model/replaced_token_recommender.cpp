#include "seqrec/model/replaced_token_recommender.h"

#include <utility>

#include "seqrec/model/keyed_random.h"

namespace seqrec::model {

ReplacedTokenRecommenderImpl::ReplacedTokenRecommenderImpl(const Schema& schema, InputBlock input,
                                                           std::shared_ptr<SequenceBodyImpl> generator,
                                                           std::shared_ptr<SequenceBodyImpl> discriminator,
                                                           std::shared_ptr<ItemLossImpl> loss,
                                                           const ReplacedTokenOptions& options,
                                                           std::string time_feature)
    : SequentialRecommenderImpl(std::move(input), std::move(generator),
                                std::make_unique<MaskedItemMasking>(schema, options.mlm_probability), std::move(loss),
                                std::move(time_feature)),
      item_name_(schema.item().name),
      options_(options) {
  if (discriminator != nullptr) discriminator_ = register_module("discriminator", std::move(discriminator));
  head_ = register_module("discriminator_head", torch::nn::Linear(item_table().dim(), 1));
}

ReplacedTokenRecommenderImpl::Step ReplacedTokenRecommenderImpl::training_step(const Batch& batch, uint64_t seed) {
  Step step;
  step.masked = masking().training(batch, seed);
  const torch::Tensor output = encode(step.masked);
  step.generator = item_loss(batch, step.masked, output, seed);

  // Every hidden slot gets a draw, those of unknown items too (they have no label, but
  // the discriminator sees them replaced all the same). Every rank draws, however few
  // slots it has: on a sharded table the draw is collective.
  const torch::Tensor& hidden = step.masked.hidden;
  const torch::Tensor& originals = batch.features.at(item_name_);
  const torch::Tensor keys = slot_keys(batch.session_ids, hidden.size(1)).masked_select(hidden);
  const torch::Tensor draws = item_table().sample(output.index({hidden}).detach(), keys, kFirstRealId,
                                                  draw_seed(seed, Draw::Replacement));
  step.items = originals.masked_scatter(hidden, draws);
  step.replaced = step.items != originals;

  MaskedBatch corrupted{batch.features, batch.mask, {}, {}, {}, {}};
  corrupted.features[item_name_] = step.items;
  const torch::Tensor logits = head_(encode(discriminator(), corrupted)).squeeze(-1);
  namespace F = torch::nn::functional;
  step.discriminator_sum = F::binary_cross_entropy_with_logits(
      logits.masked_select(batch.mask), step.replaced.masked_select(batch.mask).to(logits.scalar_type()),
      F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum));
  return step;
}

LossOutput ReplacedTokenRecommenderImpl::training_loss(const Batch& batch, uint64_t seed) {
  const Step step = training_step(batch, seed);
  return {step.generator.loss_sum + options_.weight * options_.mlm_probability * step.discriminator_sum,
          step.generator.labels, 1, {}};
}

}  // namespace seqrec::model
