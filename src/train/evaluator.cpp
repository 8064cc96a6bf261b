#include "seqrec/train/evaluator.h"

#include <limits>

#include "seqrec/core/error.h"
#include "seqrec/data/loader.h"
#include "seqrec/data/shard.h"

namespace seqrec::train {

namespace {

// Batches of the split in file order: evaluation needs no shuffling.
Loader evaluation_loader(const Dataset& dataset, const EvalOptions& options) {
  LoaderOptions o;
  o.split = options.split;
  o.global_batch_size = options.batch_size;
  o.collate.max_seq_len = options.max_seq_len;
  o.shuffle = false;
  return Loader(dataset, o);
}

// Scores every batch with `score` and accumulates the ranks of the held-out targets.
template <typename ScoreFn>
std::map<std::string, double> rank_targets(const Dataset& dataset, const EvalOptions& options, ScoreFn score) {
  const std::string item = dataset.schema().item().name;
  Loader loader = evaluation_loader(dataset, options);
  model::RankingMetrics metrics(options.ks);
  while (auto batch = loader.next()) {
    if (batch->size() == 0) continue;
    if (!batch->targets.count(item)) fail("split '", options.split, "' has no targets to evaluate against");
    const torch::Tensor history = options.exclude_history ? batch->features.at(item) : torch::Tensor();
    metrics.add(score(*batch), batch->targets.at(item), history);
  }
  return metrics.results();
}

}  // namespace

std::map<std::string, double> evaluate(model::Recommender& recommender, const Dataset& dataset,
                                       const EvalOptions& options) {
  torch::NoGradGuard no_grad;
  const bool was_training = recommender->is_training();
  recommender->eval();
  auto results = rank_targets(dataset, options, [&](const Batch& batch) { return recommender->next_item_scores(batch); });
  recommender->train(was_training);
  return results;
}

std::map<std::string, double> evaluate_popularity(const Dataset& dataset, const EvalOptions& options) {
  const FeatureSpec& item = dataset.schema().item();
  const auto columns = dataset.schema().sequence_features();
  const size_t item_column = static_cast<size_t>(
      std::find_if(columns.begin(), columns.end(), [&](const FeatureSpec& f) { return f.name == item.name; }) -
      columns.begin());

  torch::Tensor counts = torch::zeros({item.cardinality}, torch::kFloat32);
  auto* count = counts.data_ptr<float>();
  for (const auto& shard : dataset.shards(kSplitTrain)) {
    ShardReader reader(dataset.path_of(shard), dataset.schema());
    const int64_t step = dataset.manifest().block_sessions;
    for (int64_t begin = 0; begin < reader.num_sessions(); begin += step) {
      const SessionBlock block = reader.read(begin, std::min(reader.num_sessions(), begin + step));
      for (int64_t id : block.sequence[item_column].as<int64_t>()) count[id] += 1;
    }
  }
  counts.slice(0, 0, kFirstRealId).fill_(-std::numeric_limits<float>::infinity());
  return rank_targets(dataset, options, [&](const Batch& batch) { return counts.expand({batch.size(), -1}); });
}

}  // namespace seqrec::train
