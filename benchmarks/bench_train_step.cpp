// Training throughput of the real step: loader -> train::train_step -> DistributedOptimizer,
// over the ranks of an MPI job (run without mpirun it is one rank).
//
//   mpirun -np N bench_train_step --data DIR [--loss bce] [--batch_size 128] ...  (--help lists all)
//
// Without --data each rank prepares the built-in synthetic log into its own temporary
// directory (the same files on every rank, so nothing has to be shared) and removes it
// afterwards: enough for a smoke run.
//
// --warmup_steps untimed steps, then --steps steps timed as train/step_timing.h says. Each step is timed
// with steady_clock from asking the loader for the batch to the optimizer's return, so a
// loader that cannot keep up shows (it prefetches in its own thread). Rank 0 prints
// sequences/s (sessions of the global batches), positions/s (labelled positions,
// StepOutcome::labels), ms per step (mean, p50, p90 of each step's slowest rank), and the
// largest rank's peak resident memory.
//
// --profile then runs as many steps again, train_step's phases one by one, and prints the
// mean time of each: where a slow step spends its time.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <torch/csrc/autograd/profiler_legacy.h>

#include "seqrec/comm/make_communicator.h"
#include "seqrec/comm/mpi_environment.h"
#include "seqrec/core/allocator.h"
#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "seqrec/core/threads.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/loader.h"
#include "seqrec/data/prepare.h"
#include "seqrec/parallel/sharded_embedding_table.h"
#include "seqrec/train/step_timing.h"
#include "seqrec/train/train_step.h"

namespace fs = std::filesystem;
namespace po = boost::program_options;
using namespace seqrec;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kSeed = 42;

struct Config {
  std::string data;
  model::ModelOptions model;
  int64_t batch_size = 128;
  int64_t warmup_steps = 20;
  int64_t steps = 200;
  int threads = 0;
  int64_t shard_threshold = 0;
  std::string json;
  bool overlap = true;
  bool profile = false;
  std::string trace;
};

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::optional<Config> parse(int argc, char** argv, bool print) {
  Config c;
  model::ModelOptions& m = c.model;
  m.d_model = 50;  // SASRec's published configuration
  po::options_description d("bench_train_step options");
  d.add_options()
      ("help", "print the options")
      ("data", po::value(&c.data)->default_value(""), "prepared data set directory (empty: a small synthetic one)")
      ("body", po::value(&m.body)->default_value(m.body), "sasrec | transformer | gru4rec")
      ("loss", po::value(&m.loss)->default_value("bce"), "ce (full softmax) | sampled | bce (one negative)")
      ("d_model", po::value(&m.d_model)->default_value(m.d_model), "hidden size")
      ("layers", po::value(&m.layers)->default_value(m.layers), "blocks")
      ("heads", po::value(&m.heads)->default_value(m.heads), "attention heads")
      ("max_seq_len", po::value(&m.max_seq_len)->default_value(m.max_seq_len), "events per session kept")
      ("batch_size", po::value(&c.batch_size)->default_value(c.batch_size), "GLOBAL batch: sessions per step over all ranks")
      ("dropout", po::value(&m.dropout)->default_value(m.dropout, "0.2"), "dropout probability")
      ("warmup_steps", po::value(&c.warmup_steps)->default_value(c.warmup_steps), "untimed steps first")
      ("steps", po::value(&c.steps)->default_value(c.steps), "timed steps")
      ("threads", po::value(&c.threads)->default_value(c.threads), "compute threads per rank (0: cores / ranks on the node)")
      ("shard_threshold", po::value(&c.shard_threshold)->default_value(c.shard_threshold),
       "tables with more rows are row-sharded; the item table always is (-1: replicate every table)")
      ("overlap", po::value(&c.overlap)->default_value(c.overlap), "start gradient-bucket all-reduces during backward (--dist.overlap)")
      ("json", po::value(&c.json)->default_value(""), "also write the results to this JSON file (rank 0)")
      ("profile", po::bool_switch(&c.profile), "then time the phases of the step separately")
      ("trace", po::value(&c.trace), "with --profile: also write those steps' operators as a Chrome trace (rank 0)");
  po::variables_map values;
  try {
    po::store(po::parse_command_line(argc, argv, d), values);
    po::notify(values);
  } catch (const po::error& e) {
    fail(e.what(), " (--help lists the options)");
  }
  if (values.count("help")) {
    if (print) std::cout << d;
    return std::nullopt;
  }
  if (c.steps < 1 || c.warmup_steps < 0) fail("--steps must be at least 1 and --warmup_steps at least 0");
  return c;
}

fs::path prepare_synthetic(int rank) {
  PrepareOptions options;
  options.synthetic = true;
  options.output = fs::temp_directory_path() / str_cat("seqrec-bench-train-step-", getpid(), "-r", rank);
  prepare_dataset(options);
  return options.output;
}

// train::train_step taken apart so that each phase can be timed; it must follow
// src/train/train_step.cpp. The headline figures never come from here.
std::vector<std::pair<std::string, double>> profile_phases(model::RecommenderImpl& model, Loader& loader,
                                             train::DistributedOptimizer& optimizer, comm::Communicator& comm,
                                             int64_t first_step, int64_t steps) {
  const std::vector<std::string> names = {"load", "forward", "loss_all_reduce", "backward", "optimizer"};
  std::vector<double> total(names.size(), 0);
  comm.barrier();
  for (int64_t step = first_step; step < first_step + steps; ++step) {
    auto mark = Clock::now();
    const auto lap = [&](size_t phase) {
      total[phase] += ms_since(mark);
      mark = Clock::now();
    };
    const Batch share = train::next_batch_across_epochs(loader);
    lap(0);
    const model::LossOutput out = model.training_loss(share, train::step_seed(kSeed, step));
    lap(1);
    const torch::Tensor totals =
        torch::tensor({out.loss_sum.item<double>(), static_cast<double>(out.labels)}, torch::kFloat64);
    comm.all_reduce(totals, comm::ReduceOp::Sum);
    const double divisor = std::max(1.0, totals[1].item<double>());
    const bool finite = std::isfinite(totals[0].item<double>() / divisor);
    lap(2);
    if (finite) (out.loss_sum / divisor).backward();
    lap(3);
    if (finite) optimizer.step();
    else optimizer.skip();
    lap(4);
  }
  // Rank 0's view: waiting for a slower rank shows in the collective phases.
  std::vector<std::pair<std::string, double>> mean_ms;
  for (size_t i = 0; i < names.size(); ++i) mean_ms.emplace_back(names[i], total[i] / static_cast<double>(steps));
  return mean_ms;
}

int run(int argc, char** argv) {
  const comm::MpiEnvironment mpi;
  const bool lead = mpi.rank() == 0;
  const std::optional<Config> parsed = parse(argc, argv, lead);
  if (!parsed) return 0;
  const Config& c = *parsed;
  const std::shared_ptr<comm::Communicator> comm = comm::make_communicator("mpi", std::chrono::seconds(600));
  if (c.batch_size < comm->size()) fail("--batch_size (", c.batch_size, ") is below the number of ranks");
  const int threads = threads_per_rank(c.threads);
  configure_threads(threads);

  const fs::path data = c.data.empty() ? prepare_synthetic(comm->rank()) : fs::path(c.data);
  const Dataset dataset = Dataset::open(data);
  // Alike on every rank, so replicated weights start alike; dropout then draws per rank,
  // as in the trainer.
  torch::manual_seed(kSeed);
  model::ModelOptions model_options = c.model;
  model_options.seed = kSeed;
  model::Recommender model = model::build_recommender(model_options, dataset.schema(),
                                                      parallel::sharded_table_factory(comm, c.shard_threshold));
  train::OptimizerOptions optimizer_options;
  optimizer_options.overlap = c.overlap;
  train::DistributedOptimizer optimizer(*model, comm, optimizer_options);
  torch::manual_seed(train::dropout_seed(kSeed, comm->rank()));
  model->train();

  LoaderOptions loader_options;
  loader_options.global_batch_size = c.batch_size;
  loader_options.collate.max_seq_len = c.model.max_seq_len;
  loader_options.seed = kSeed;
  loader_options.rank = comm->rank();
  loader_options.world_size = comm->size();
  Loader loader(dataset, loader_options);

  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::string command = argv[0];
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  if (lead) {
    std::printf("command: %s\n", command.c_str());
    std::printf("data set: %s, %lld training sessions, %lld items\n", data.c_str(),
                static_cast<long long>(dataset.num_sessions(kSplitTrain)),
                static_cast<long long>(dataset.schema().item().cardinality));
    std::printf("model: %s, loss %s, d_model %lld, %lld layers, %lld heads, L %lld, dropout %.2f\n",
                c.model.body.c_str(), c.model.loss.c_str(), static_cast<long long>(c.model.d_model),
                static_cast<long long>(c.model.layers), static_cast<long long>(c.model.heads),
                static_cast<long long>(c.model.max_seq_len), c.model.dropout);
    std::printf("%d rank(s) x %d thread(s), global batch %lld, %lld warm-up + %lld timed steps; load average %.2f\n",
                comm->size(), threads, static_cast<long long>(c.batch_size), static_cast<long long>(c.warmup_steps),
                static_cast<long long>(c.steps), load[0]);
    std::fflush(stdout);
  }

  if (c.warmup_steps > 0) {
    train::time_train_steps(*model, loader, optimizer, *comm, kSeed, 0, c.warmup_steps, Precision::Float32);
  }
  const train::StepTiming t = train::time_train_steps(*model, loader, optimizer, *comm, kSeed, c.warmup_steps, c.steps,
                                                      Precision::Float32);
  const double rss = comm->all_reduce_values({train::peak_rss_mib()}, comm::ReduceOp::Max)[0];
  std::vector<std::pair<std::string, double>> phases;
  if (c.profile) {
    // The legacy profiler times every operator; its overhead is why the phases, not the
    // headline figures, run under it.
    std::optional<torch::autograd::profiler::RecordProfile> tracer;
    if (lead && !c.trace.empty()) tracer.emplace(c.trace);
    phases = profile_phases(*model, loader, optimizer, *comm, c.warmup_steps + c.steps, c.steps);
  }

  if (lead) {
    const double mean_ms = t.mean_ms();
    const double p50 = t.percentile_ms(0.5);
    const double p90 = t.percentile_ms(0.9);
    std::printf("sequences/s %.0f  positions/s %.0f  ms/step mean %.2f p50 %.2f p90 %.2f  peak RSS %.1f MiB (largest rank)"
                "  mean loss %.4f\n",
                t.sessions / t.seconds, t.positions / t.seconds, mean_ms, p50, p90, rss, t.mean_loss);
    if (c.profile) {
      double sum = 0;
      for (const auto& [name, ms] : phases) sum += ms;
      std::printf("profile, ms/step (rank 0):");
      for (const auto& [name, ms] : phases) std::printf("  %s %.2f (%.0f%%)", name.c_str(), ms, 100 * ms / sum);
      std::printf("\n");
    }
    if (!c.json.empty()) {
      nlohmann::json j = {{"command", command}, {"ranks", comm->size()}, {"threads_per_rank", threads},
                                {"body", c.model.body}, {"loss", c.model.loss}, {"d_model", c.model.d_model},
                                {"layers", c.model.layers}, {"heads", c.model.heads},
                                {"max_seq_len", c.model.max_seq_len}, {"global_batch", c.batch_size},
                                {"dropout", c.model.dropout}, {"warmup_steps", c.warmup_steps}, {"steps", c.steps},
                                {"load_average", load[0]}, {"sequences_per_s", t.sessions / t.seconds},
                                {"positions_per_s", t.positions / t.seconds}, {"ms_per_step_mean", mean_ms},
                                {"ms_per_step_p50", p50}, {"ms_per_step_p90", p90}, {"peak_rss_mib_max", rss},
                                {"mean_loss", t.mean_loss}};
      for (const auto& [name, ms] : phases) j["profile_ms_per_step"][name] = ms;
      std::ofstream(c.json) << j.dump(2) << "\n";
    }
  }
  if (c.data.empty()) fs::remove_all(data);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  try {
    return run(argc, argv);
  } catch (const UserError& e) {
    // Every rank meets the same mistake; one line says it.
    if (log::rank() == 0) std::fprintf(stderr, "bench_train_step: %s\n", e.what());
    return kExitUsage;
  }
}
