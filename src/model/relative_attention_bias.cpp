#include "seqrec/model/relative_attention_bias.h"

#include <algorithm>
#include <cmath>

namespace seqrec::model {

namespace {

// The HSTU reference's bucket width: ln(gap in seconds) / 0.301.
constexpr double kLogTimeBucketWidth = 0.301;

int64_t position_table_rows(const RelativeBiasOptions& o) { return std::min(o.max_seq_len, o.position_buckets); }

torch::Tensor distance_buckets(const torch::Tensor& distance, const RelativeBiasOptions& o) {
  const int64_t rows = position_table_rows(o);
  if (rows == o.max_seq_len) return distance;  // a bucket per distance
  const int64_t exact = rows / 2;
  // Logarithmic from `exact` up to the longest distance, which gets the last bucket.
  const double span = std::log(static_cast<double>(o.max_seq_len - 1) / static_cast<double>(exact));
  const torch::Tensor far =
      exact + (torch::log(distance.clamp_min(exact).to(torch::kFloat64) / static_cast<double>(exact)) / span *
               static_cast<double>(rows - 1 - exact))
                  .floor()
                  .to(torch::kInt64);
  return torch::where(distance < exact, distance, far.clamp_max(rows - 1));
}

}  // namespace

RelativeBuckets relative_buckets(int64_t length, const torch::Tensor& times, const RelativeBiasOptions& o) {
  RelativeBuckets buckets;
  const torch::Tensor slots = torch::arange(length, torch::TensorOptions().dtype(torch::kInt64));
  const torch::Tensor signed_distance = slots.unsqueeze(1) - slots.unsqueeze(0);
  if (o.bidirectional) {
    // Keys after the query in the second half of the table.
    const torch::Tensor distance = signed_distance.abs().clamp_max(o.max_seq_len - 1);
    buckets.positions = distance_buckets(distance, o) + (signed_distance < 0) * position_table_rows(o);
  } else {
    buckets.positions = distance_buckets(signed_distance.clamp(0, o.max_seq_len - 1), o);
  }
  if (o.time_buckets > 0 && times.defined()) {
    const torch::Tensor gap = (times.unsqueeze(2) - times.unsqueeze(1)).abs().clamp_min(1.0);
    buckets.times = (gap.log() / kLogTimeBucketWidth).floor().clamp(0, o.time_buckets - 1).to(torch::kInt64);
  }
  return buckets;
}

RelativeAttentionBiasImpl::RelativeAttentionBiasImpl(const RelativeBiasOptions& o) {
  // Small at the start, as the reference's, so that attention begins near plain q . k.
  const int64_t directions = o.bidirectional ? 2 : 1;
  positions_ = register_module("positions", torch::nn::Embedding(directions * position_table_rows(o), o.heads));
  torch::nn::init::normal_(positions_->weight, 0.0, 0.02);
  if (o.time_buckets > 0) {
    times_ = register_module("times", torch::nn::Embedding(o.time_buckets, o.heads));
    torch::nn::init::normal_(times_->weight, 0.0, 0.02);
  }
}

torch::Tensor RelativeAttentionBiasImpl::forward(const RelativeBuckets& buckets) {
  torch::Tensor bias = positions_(buckets.positions).permute({2, 0, 1}).unsqueeze(0);
  if (times_ && buckets.times.defined()) bias = bias + times_(buckets.times).permute({0, 3, 1, 2});
  return bias;
}

}  // namespace seqrec::model
