#include "seqrec/train/evaluator.h"

#include <limits>

#include "seqrec/core/error.h"
#include "seqrec/data/loader.h"
#include "seqrec/data/shard.h"
#include "seqrec/train/agreed_batches.h"

namespace seqrec::train {

namespace {

// This rank's share of the split, in file order: evaluation needs no shuffling.
Loader evaluation_loader(const Dataset& dataset, const EvalOptions& options, const comm::Communicator& comm) {
  LoaderOptions o;
  o.split = options.split;
  o.global_batch_size = options.batch_size;
  o.collate.max_seq_len = options.max_seq_len;
  o.shuffle = false;
  o.rank = comm.rank();
  o.world_size = comm.size();
  return Loader(dataset, o);
}

// Ranks every batch's held-out targets with `rank` (which may be collective: it runs on
// every rank for every batch, empty ones included) and sums the metrics over ranks.
template <typename RankFn>
std::map<std::string, double> rank_targets(const Dataset& dataset, const EvalOptions& options,
                                           comm::Communicator& comm, RankFn rank) {
  const std::string item = dataset.schema().item().name;
  Loader loader = evaluation_loader(dataset, options, comm);
  CollateOptions collate_options;
  collate_options.max_seq_len = options.max_seq_len;
  const Batch empty = collate(SessionBlock::empty(dataset.schema(), true), dataset.schema(), collate_options);
  model::RankingMetrics metrics(options.ks);
  while (auto batch = next_agreed([&] { return loader.next(); }, empty, comm)) {
    if (!batch->targets.count(item)) fail("split '", options.split, "' has no targets to evaluate against");
    const torch::Tensor targets = batch->targets.at(item);
    const torch::Tensor history = options.exclude_history ? batch->features.at(item) : torch::Tensor();
    metrics.add_ranks(rank(*batch, targets, history));
  }
  std::vector<double> sums = metrics.sums();
  const torch::Tensor total = torch::tensor(sums, torch::kFloat64);
  comm.all_reduce(total, comm::ReduceOp::Sum);
  std::copy(total.data_ptr<double>(), total.data_ptr<double>() + total.numel(), sums.begin());
  metrics.set_sums(sums);
  return metrics.results();
}

}  // namespace

std::map<std::string, double> evaluate(model::Recommender& recommender, const Dataset& dataset,
                                       const EvalOptions& options, comm::Communicator& comm) {
  torch::NoGradGuard no_grad;
  const bool was_training = recommender->is_training();
  recommender->eval();
  auto results = rank_targets(dataset, options, comm, [&](const Batch& batch, const torch::Tensor& targets,
                                                          const torch::Tensor& history) {
    return recommender->item_table().target_ranks(recommender->query_states(batch), targets, kFirstRealId, history);
  });
  recommender->train(was_training);
  return results;
}

std::map<std::string, double> evaluate_popularity(const Dataset& dataset, const EvalOptions& options,
                                                  comm::Communicator& comm) {
  const FeatureSpec& item = dataset.schema().item();
  const auto columns = dataset.schema().sequence_features();
  const size_t item_column = static_cast<size_t>(
      std::find_if(columns.begin(), columns.end(), [&](const FeatureSpec& f) { return f.name == item.name; }) -
      columns.begin());

  // Every rank counts every training shard: the counts are small, the reading cheap.
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
  return rank_targets(dataset, options, comm, [&](const Batch& batch, const torch::Tensor& targets,
                                                  const torch::Tensor& history) {
    return model::ranks_from_scores(counts.expand({batch.size(), -1}), targets, history);
  });
}

}  // namespace seqrec::train
