#include "seqrec/train/recommend.h"

#include <vector>

#include "seqrec/core/error.h"
#include "seqrec/data/batch.h"
#include "seqrec/train/device_staging.h"

namespace seqrec::train {

namespace {

// Rank 0 receives every rank's rows, in rank order.
torch::Tensor gather_rows(const torch::Tensor& rows, comm::Communicator& comm) {
  std::vector<int64_t> counts(static_cast<size_t>(comm.size()), 0);
  counts[0] = rows.size(0);
  torch::Tensor received = comm.all_to_all(rows.contiguous(), counts).tensor;
  return comm.rank() == 0 ? received.to(torch::kCPU) : torch::Tensor();
}

}  // namespace

Recommendations recommend(model::RecommenderImpl& recommender, const SessionBlock& sessions, const Schema& schema,
                          const RecommendOptions& options, comm::Communicator& comm) {
  const int64_t classes = schema.item().cardinality - kFirstRealId;
  if (options.k < 1 || options.k > classes) fail("--k must lie in 1..", classes, " (the items) (got ", options.k, ")");
  if (options.batch_size < 1) fail("--batch_size must be at least 1 (got ", options.batch_size, ")");
  torch::NoGradGuard no_grad;
  const bool was_training = recommender.is_training();
  recommender.eval();
  const std::string item = schema.item().name;
  CollateOptions collate_options;
  collate_options.max_seq_len = options.max_seq_len;
  const int64_t total = sessions.num_sessions();
  const int64_t ranks = comm.size();
  std::vector<torch::Tensor> scores, ids;
  DeviceStaging staging(comm.device());
  for (int64_t begin = 0; begin < total; begin += options.batch_size) {
    // This rank's contiguous share of the batch, so rank order is session order.
    const int64_t n = std::min(total, begin + options.batch_size) - begin;
    const int64_t first = begin + n * comm.rank() / ranks;
    const int64_t last = begin + n * (comm.rank() + 1) / ranks;
    SessionBlock share = SessionBlock::empty(schema, false);
    for (int64_t s = first; s < last; ++s) share.append_session(sessions, s);
    const Batch batch = staging.stage(collate(share, schema, collate_options));
    const torch::Tensor history = options.exclude_history ? batch.features.at(item) : torch::Tensor();
    const auto [best_scores, best_ids] =
        recommender.item_table().top_k(recommender.query_states(batch), options.k, kFirstRealId, history);
    scores.push_back(gather_rows(best_scores, comm));
    ids.push_back(gather_rows(best_ids, comm));
  }
  recommender.train(was_training);
  if (comm.rank() != 0) return {};
  if (scores.empty()) return {torch::empty({0, options.k}, torch::kFloat32), torch::empty({0, options.k}, torch::kLong)};
  return {torch::cat(scores), torch::cat(ids)};
}

}  // namespace seqrec::train
