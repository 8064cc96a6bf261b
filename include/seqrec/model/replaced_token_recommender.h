// Replaced token detection (RTD), after ELECTRA (Clark et al., "ELECTRA: Pre-training Text
// Encoders as Discriminators Rather Than Generators", 2020): a generator and a
// discriminator trained together.
//
// The generator is a masked-item (MLM, BERT4Rec) recommender: events are hidden behind
// [MASK] as MaskedItemMasking hides them, and its item loss is taken at the hidden slots.
// At every hidden slot it also draws a replacement from its own softmax over the whole
// catalog (EmbeddingTableImpl::sample: keyed Gumbel-max, so N ranks draw what one rank
// draws; reserved ids are never drawn, and no gradient flows through the draw). The
// discriminator reads the session with the hidden events replaced by the draws and tells,
// at every real event, whether its item is the original one (a draw equal to the original
// is the original): binary cross-entropy summed over real events. Transformers4Rec names
// RTD but trains no discriminator; this one does.
//
// What the two share (rtd_share): `all`, one bidirectional transformer body, the
// generator's items scored through the tied item table and the discriminator's verdict by
// a linear head on the same outputs; `embeddings`, a body each, sharing the input block
// (item table, side features, positions).
//
// The loss of a step is generator sum + lambda * p * discriminator sum, counted as the
// generator's labelled slots, p the masking probability. The training loop divides a
// step's sum by the global count, so the discriminator's share comes out as lambda times
// its sum over about masked / p = the real events: ELECTRA's generator mean + lambda *
// discriminator mean. The weights are constants, not per-batch counts, so the step's loss
// does not depend on how its sessions are spread over ranks. lambda = 0 trains exactly the
// generator alone, an MLM recommender.
//
// Inference ranks the next item as the generator does (MLM: a [MASK] slot after the last
// event, scored through the item table); under rtd_share = all that is the body the
// discriminator trains as well.
//
// A replacement takes the drawn item's id but keeps the event's other sequence features
// (a batch carries none for items it does not hold), so on data with item-side sequence
// features a mismatch can give a replacement away.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "seqrec/data/schema.h"
#include "seqrec/model/sequential_recommender.h"

namespace seqrec::model {

struct ReplacedTokenOptions {
  double weight = 50.0;          // lambda: the discriminator's weight (50 in ELECTRA and Transformers4Rec)
  double mlm_probability = 0.2;  // p: the generator's share of hidden events
};

class ReplacedTokenRecommenderImpl : public SequentialRecommenderImpl {
 public:
  // discriminator: a body of its own, or null to share the generator's.
  ReplacedTokenRecommenderImpl(const Schema& schema, InputBlock input, std::shared_ptr<SequenceBodyImpl> generator,
                               std::shared_ptr<SequenceBodyImpl> discriminator, std::shared_ptr<ItemLossImpl> loss,
                               const ReplacedTokenOptions& options, std::string time_feature = {});

  // The parts of a training step, which training_loss combines.
  struct Step {
    MaskedBatch masked;               // the generator's view of the batch
    LossOutput generator;             // its item loss at the labelled hidden slots
    torch::Tensor items;              // [B, L] the discriminator's view: draws at the hidden slots
    torch::Tensor replaced;           // [B, L] its labels: items != the batch's
    torch::Tensor discriminator_sum;  // binary cross-entropy summed over real events
  };
  Step training_step(const Batch& batch, uint64_t seed);

  LossOutput training_loss(const Batch& batch, uint64_t seed) override;

 private:
  SequenceBodyImpl& discriminator() { return discriminator_ != nullptr ? *discriminator_ : body(); }

  std::string item_name_;
  ReplacedTokenOptions options_;
  std::shared_ptr<SequenceBodyImpl> discriminator_;
  torch::nn::Linear head_{nullptr};  // body output -> logit of "replaced"
};

}  // namespace seqrec::model
