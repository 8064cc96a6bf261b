#include "seqrec/train/evaluator.h"

#include <algorithm>
#include <functional>
#include <limits>

#include "seqrec/core/error.h"
#include "seqrec/core/rng.h"
#include "seqrec/data/loader.h"
#include "seqrec/data/shard.h"
#include "seqrec/model/evaluation_negatives.h"
#include "seqrec/model/item_loss.h"
#include "seqrec/model/session_metrics.h"
#include "seqrec/train/agreed_batches.h"
#include "seqrec/train/device_staging.h"

namespace seqrec::train {

namespace {

// Stream of derive_seed for the sampled protocol's negatives, apart from the run's others.
constexpr uint64_t kSampledNegativesStream = 0x5eed5a3b1e;

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

// [V] float32: each item's events in the training split. Every rank counts every
// training shard: the counts are small, the reading cheap.
torch::Tensor training_item_counts(const Dataset& dataset) {
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
  return counts;
}

// The cdf the sampled protocol draws negatives from.
torch::Tensor negative_cdf(const SampledProtocol& sampled, const Dataset& dataset) {
  const int64_t items = dataset.schema().item().cardinality;
  if (sampled.distribution == "uniform") return model::distribution_cdf(model::uniform_item_distribution(items));
  torch::Tensor counts = training_item_counts(dataset);
  counts.slice(0, 0, kFirstRealId).zero_();
  if (counts.sum().item<double>() == 0) fail("sampled_distribution popularity: the training split has no items");
  return model::distribution_cdf(counts);
}

// What a scorer gives for a batch, on the CPU: the full-catalog rank of each target [B],
// when candidates [B, C] are given their scores [B, C], and each session task's
// predictions by feature (model.h: session_predictions).
struct BatchScores {
  torch::Tensor ranks;
  torch::Tensor candidate_scores;
  std::map<std::string, torch::Tensor> task_predictions;
};
// (batch, targets [B], history [B, L] or undefined, candidates [B, C] or undefined).
// May be collective: it runs on every rank for every batch, empty ones included.
using ScoreFn = std::function<BatchScores(const Batch&, const torch::Tensor&, const torch::Tensor&,
                                          const torch::Tensor&)>;

// Every rank's rows [n_r, 2] float64 stacked in rank order, on every rank.
torch::Tensor gather_rows(const torch::Tensor& rows, comm::Communicator& comm) {
  const auto most = static_cast<int64_t>(
      comm.all_reduce_values({static_cast<double>(std::max<int64_t>(1, rows.size(0)))}, comm::ReduceOp::Max)[0]);
  torch::Tensor padded = torch::full({most, 2}, -1.0, torch::kFloat64);
  padded.slice(0, 0, rows.size(0)).copy_(rows);
  const torch::Tensor all = comm.all_gather(padded.to(comm.device())).to(torch::kCPU);
  return all.index({all.select(1, 1) >= 0});  // padding rows carry label -1
}

// Scores every batch of the split with `score` and combines the metrics (of the next
// item and of `session_tasks`) over ranks.
std::map<std::string, double> evaluate_split(const Dataset& dataset, const EvalOptions& options,
                                             comm::Communicator& comm, const ScoreFn& score,
                                             const std::vector<model::SessionTask>& session_tasks) {
  const std::string item = dataset.schema().item().name;
  Loader loader = evaluation_loader(dataset, options, comm);
  CollateOptions collate_options;
  collate_options.max_seq_len = options.max_seq_len;
  const Batch empty = collate(SessionBlock::empty(dataset.schema(), true), dataset.schema(), collate_options);
  const SampledProtocol& sampled = options.sampled;
  check_sampled_protocol(sampled, "");
  const torch::Tensor cdf = sampled.negatives > 0 ? negative_cdf(sampled, dataset) : torch::Tensor();
  const uint64_t negatives_seed = derive_seed(options.seed, {kSampledNegativesStream});

  model::RankingMetrics full(options.ks);
  model::RankingMetrics sampled_metrics(options.ks);
  std::vector<model::SessionTaskMetrics> tasks(session_tasks.begin(), session_tasks.end());
  while (auto batch = next_agreed([&] { return loader.next(); }, empty, comm)) {
    if (!batch->targets.count(item)) fail("split '", options.split, "' has no targets to evaluate against");
    const torch::Tensor targets = batch->targets.at(item);
    const torch::Tensor& items = batch->features.at(item);
    torch::Tensor candidates;
    if (sampled.negatives > 0) {
      const torch::Tensor negatives =
          model::draw_evaluation_negatives(batch->session_ids, targets, sampled.exclude_history ? items : torch::Tensor(),
                                           sampled.negatives, cdf, negatives_seed);
      candidates = torch::cat({targets.to(torch::kLong).unsqueeze(1), negatives}, 1);
    }
    const BatchScores scores = score(*batch, targets, options.exclude_history ? items : torch::Tensor(), candidates);
    full.add_ranks(scores.ranks);
    if (candidates.defined()) sampled_metrics.add_ranks(model::candidate_ranks(scores.candidate_scores));
    for (auto& task : tasks) {
      task.add(scores.task_predictions.at(task.task().feature), batch->features.at(task.task().feature));
    }
  }

  // One all-reduce for every sum; the AUCs need every rank's scores.
  std::vector<double> sums = full.sums();
  const std::vector<double> sampled_sums = sampled_metrics.sums();
  sums.insert(sums.end(), sampled_sums.begin(), sampled_sums.end());
  for (const auto& task : tasks) {
    const std::vector<double> task_sums = task.sums();
    sums.insert(sums.end(), task_sums.begin(), task_sums.end());
  }
  sums = comm.all_reduce_values(std::move(sums), comm::ReduceOp::Sum);
  auto next = sums.begin();
  const auto take = [&](size_t n) {
    std::vector<double> part(next, next + static_cast<std::ptrdiff_t>(n));
    next += static_cast<std::ptrdiff_t>(n);
    return part;
  };
  full.set_sums(take(full.sums().size()));
  sampled_metrics.set_sums(take(sampled_sums.size()));
  std::map<std::string, double> results = full.results();
  if (sampled.negatives > 0) {
    for (const auto& [name, value] : sampled_metrics.results()) results["sampled_" + name] = value;
  }
  for (auto& task : tasks) {
    task.set_sums(take(task.sums().size()));
    if (task.task().kind == model::TaskKind::Classify && task.task().outputs == 1) {
      task.set_scored(gather_rows(task.scored(), comm));
    }
    for (const auto& [name, value] : task.results()) results[name] = value;
  }
  return results;
}

}  // namespace

void check_sampled_protocol(const SampledProtocol& sampled, const std::string& prefix) {
  if (sampled.negatives < 0) fail(prefix, "sampled_negatives must be 0 (off) or more (got ", sampled.negatives, ")");
  if (sampled.distribution != "uniform" && sampled.distribution != "popularity") {
    fail(prefix, "sampled_distribution: unknown value '", sampled.distribution, "' (valid: uniform, popularity)");
  }
}

std::map<std::string, double> evaluate(model::Recommender& recommender, const Dataset& dataset,
                                       const EvalOptions& options, comm::Communicator& comm) {
  torch::NoGradGuard no_grad;
  const bool was_training = recommender->is_training();
  recommender->eval();
  model::EmbeddingTableImpl& table = recommender->item_table();
  const std::vector<model::SessionTask> tasks = recommender->session_tasks();
  const std::string item = dataset.schema().item().name;
  DeviceStaging staging(comm.device());
  auto results = evaluate_split(
      dataset, options, comm,
      [&](const Batch& host, const torch::Tensor&, const torch::Tensor& history, const torch::Tensor& candidates) {
        // Targets and history are the batch's own columns: staged with it, not again.
        const Batch batch = staging.stage(host);
        const torch::Tensor states = recommender->query_states(batch);
        BatchScores out;
        out.ranks = table.target_ranks(states, batch.targets.at(item), kFirstRealId,
                                       history.defined() ? batch.features.at(item) : torch::Tensor())
                        .cpu();
        if (candidates.defined()) {
          out.candidate_scores =
              table.forward(staging.stage(candidates)).matmul(states.unsqueeze(-1)).squeeze(-1).cpu();
        }
        if (!tasks.empty()) {
          for (auto& [feature, prediction] : recommender->session_predictions(batch)) {
            out.task_predictions[feature] = prediction.cpu();
          }
        }
        return out;
      },
      tasks);
  recommender->train(was_training);
  return results;
}

std::map<std::string, double> evaluate_popularity(const Dataset& dataset, const EvalOptions& options,
                                                  comm::Communicator& comm) {
  torch::Tensor counts = training_item_counts(dataset);
  counts.slice(0, 0, kFirstRealId).fill_(-std::numeric_limits<float>::infinity());
  return evaluate_split(
      dataset, options, comm,
      [&](const Batch& batch, const torch::Tensor& targets, const torch::Tensor& history,
          const torch::Tensor& candidates) {
        BatchScores out;
        out.ranks = model::ranks_from_scores(counts.expand({batch.size(), -1}), targets, history);
        if (candidates.defined()) out.candidate_scores = counts.index({candidates});
        return out;
      },
      {});
}

}  // namespace seqrec::train
