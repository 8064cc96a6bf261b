#include "seqrec/model/keyed_random.h"
#include "seqrec/model/masking.h"

namespace seqrec::model {

namespace {

// A probability written with 10 significant digits (1/6 as 0.1666666667, as a run's
// config.ini records it) must give the window lengths the exact value gives.
constexpr double kWindowTolerance = 1e-6;

}  // namespace

PermutationMasking::PermutationMasking(const Schema& schema, double probability, int64_t max_span_length)
    : item_name_(schema.item().name), probability_(probability), max_span_length_(max_span_length) {
  for (const FeatureSpec& f : schema.sequence_features()) sequence_names_.push_back(f.name);
}

MaskedBatch PermutationMasking::training(const Batch& batch, uint64_t seed) const {
  const torch::Tensor& real = batch.mask;
  const int64_t length = real.size(1);
  // Everything is drawn on a grid of (session, event e) or (session, window w), e and w
  // < L, then moved to the slots: left and right padding draw alike.
  const torch::Tensor keys = slot_keys(batch.session_ids, length);
  const auto uniform = [&](Draw draw) { return keyed_uniform(keys, draw_seed(seed, draw)).to(torch::kFloat64); };
  const torch::Tensor event = torch::arange(length, keys.options()).unsqueeze(0).expand_as(keys).contiguous();
  const torch::Tensor events = real.sum(1, /*keepdim=*/true);

  // Window w holds one span; at most L windows, each one event long or more, cover them all.
  const torch::Tensor span =
      1 + (uniform(Draw::SpanLength) * static_cast<double>(max_span_length_)).floor().to(torch::kInt64);
  const torch::Tensor window = (span.to(torch::kFloat64) / probability_ + kWindowTolerance).floor().to(torch::kInt64);
  const torch::Tensor window_start = window.cumsum(1) - window;
  // Where the span may start: leaving a non-target after it, unless it fills its window.
  const torch::Tensor places = (window - span).clamp_min(1);
  const torch::Tensor span_start =
      window_start + (uniform(Draw::SpanPlace) * places.to(torch::kFloat64)).floor().to(torch::kInt64);
  const torch::Tensor window_of = torch::searchsorted(window_start, event, /*out_int32=*/false, /*right=*/true) - 1;
  const torch::Tensor first = span_start.gather(1, window_of);
  torch::Tensor target = (event >= first) & (event < first + span.gather(1, window_of)) & (event < events);
  // Sessions the draw left without a target get one, uniform over their events.
  const torch::Tensor untouched = target.any(1).logical_not() & (events.squeeze(1) > 0);
  const torch::Tensor one_event = uniform(Draw::ForcedTarget).masked_fill(event >= events, -1).argmax(1);
  target = target | (torch::one_hot(one_event, length).to(torch::kBool) & untouched.unsqueeze(1));

  // Targets after every other event, in the order of a random key per event. Keys are
  // distinct (the event breaks ties), so no sort stability is relied on.
  const torch::Tensor key = (uniform(Draw::Order) * 0x1.0p24).to(torch::kInt64) * length + event;
  const torch::Tensor rank =
      torch::where(target, key, torch::full_like(key, -1)).argsort(/*dim=*/int64_t{1}).argsort(/*dim=*/int64_t{1});
  const torch::Tensor others = length - target.sum(1, /*keepdim=*/true);
  const torch::Tensor event_order = torch::where(target, rank - others + 1, torch::zeros_like(rank));

  const torch::Tensor slot_event = (real.cumsum(1) - 1).clamp_min(0);
  const torch::Tensor targets = target.gather(1, slot_event) & real;
  const torch::Tensor& items = batch.features.at(item_name_);
  // Unknown items are targets like any other but, scored -inf, are never labels.
  const torch::Tensor labels = items * (targets & (items >= kFirstRealId));
  return {batch.features, real, {}, labels, {}, event_order.gather(1, slot_event) * real};
}

MaskedBatch PermutationMasking::inference(const Batch& batch) const {
  MaskedBatch out = with_query_slot(batch, sequence_names_);
  out.order = out.hidden.to(torch::kInt64);
  return out;
}

}  // namespace seqrec::model
