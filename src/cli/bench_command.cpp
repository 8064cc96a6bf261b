// seqrec bench: the throughput of a training configuration, measured as `seqrec train`
// would run it (same options, same loader, step and optimizer), without training to the
// end: loading alone, training steps, and one full-catalog evaluation of the validation
// split. Under mpirun it measures all ranks together.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "command.h"
#include "seqrec/comm/mpi_environment.h"
#include "seqrec/core/error.h"
#include "seqrec/core/threads.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/schema.h"
#include "seqrec/parallel/sharded_embedding_table.h"
#include "seqrec/train/device_memory.h"
#include "seqrec/train/step_timing.h"
#include "seqrec/train/train_step.h"
#include "seqrec/train/trainer.h"
#include "train_options.h"

namespace seqrec::cli {

namespace {

struct BenchOptions {
  int64_t warmup_steps = 20;
  int64_t steps = 200;
  bool evaluate = true;
  std::string json;
  std::string trace;
};

// Matrix-product FLOPs of one training step (forward and backward: 3x forward) of a
// transformer body (transformer, sasrec) and its output layer, the convention of
// benchmarks/reference_pytorch.py: every one of the B x L slots counts, padding included,
// attention counts the full L x L (not halved when causal), and the output layer scores
// the P labelled positions against C classes (every item for ce, the negatives and the
// target for sampled, two for bce). None for the other bodies.
std::optional<double> model_flops_per_step(const model::ModelOptions& m, int64_t items, double sequences,
                                           double labelled_positions) {
  if (m.body != "transformer" && m.body != "sasrec") return std::nullopt;
  const auto d = static_cast<double>(m.d_model), length = static_cast<double>(m.max_seq_len);
  const double d_ff = m.d_ff > 0 ? static_cast<double>(m.d_ff) : (m.body == "sasrec" ? d : 4 * d);
  const double per_layer = 2 * length * 4 * d * d + 2 * 2 * length * length * d + 2 * length * 2 * d * d_ff;
  double classes = 2;
  if (m.loss == "ce") classes = static_cast<double>(items - kFirstRealId);
  if (m.loss == "sampled") classes = static_cast<double>(m.negatives + 1);
  const double forward = sequences * static_cast<double>(m.layers) * per_layer + 2 * labelled_positions * d * classes;
  return 3 * forward;
}

BenchOptions& bound_bench_options() {
  static BenchOptions options;
  return options;
}

void describe(po::options_description& d) {
  BenchOptions& b = bound_bench_options();
  const BenchOptions defaults;
  po::options_description bench("bench");
  bench.add_options()
      ("bench.warmup_steps", po::value(&b.warmup_steps)->default_value(defaults.warmup_steps), "untimed training steps first")
      ("bench.steps", po::value(&b.steps)->default_value(defaults.steps), "timed training steps (and as many batches loaded alone)")
      ("bench.evaluate", po::value(&b.evaluate)->default_value(defaults.evaluate), "also time one full-catalog evaluation of the validation split")
      ("bench.json", po::value(&b.json)->default_value(""), "also write the figures to this JSON file (rank 0)")
      ("bench.trace", po::value(&b.trace)->default_value(""), "then run bench.steps more steps under LibTorch's operator profiler and write them to this Chrome trace file (rank 0; benchmarks/trace_top_ops.py sums it by operator)");
  d.add(bench);
  describe_train_options(d);
}

double seconds_of(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run(const po::variables_map&) {
  TrainCommandOptions& o = bound_train_options();
  const BenchOptions& b = bound_bench_options();
  complete_model_options(o);
  if (b.steps < 1) fail("bench.steps must be at least 1 (got ", b.steps, ")");
  if (b.warmup_steps < 0) fail("bench.warmup_steps must be 0 or more (got ", b.warmup_steps, ")");
  const Precision precision = parse_precision(o.train.precision, "train.precision");
  const comm::MpiEnvironment mpi;
  std::shared_ptr<comm::Communicator> comm = connect_ranks(o.dist);
  if (o.train.batch_size < comm->size()) {
    fail("train.batch_size (", o.train.batch_size, ") must be at least the number of ranks (", comm->size(), ")");
  }
  const bool lead = comm->rank() == 0;
  const int threads = threads_per_rank(o.train.threads);
  configure_threads(threads);
  const Dataset dataset = Dataset::open(o.data);
  torch::manual_seed(o.train.seed);
  model::Recommender recommender = model::build_recommender(
      o.model, dataset.schema(), parallel::sharded_table_factory(comm, o.dist.shard_threshold));
  recommender->to(comm->device());
  train::DistributedOptimizer optimizer(*recommender, comm, train::optimizer_options(o.train));
  torch::manual_seed(train::dropout_seed(o.train.seed, comm->rank()));

  const LoaderOptions loader_options = train::loader_options(o.train, o.model.max_seq_len, *comm);
  if (lead) {
    std::printf("bench: %s body, %s masking, %s loss, d_model %lld, %lld layers; %lld training sessions, %lld items; "
                "%d rank(s) x %d thread(s), global batch %lld\n",
                o.model.body.c_str(), o.model.masking.c_str(), o.model.loss.c_str(),
                static_cast<long long>(o.model.d_model), static_cast<long long>(o.model.layers),
                static_cast<long long>(dataset.num_sessions(kSplitTrain)),
                static_cast<long long>(dataset.schema().item().cardinality), comm->size(), threads,
                static_cast<long long>(o.train.batch_size));
    std::fflush(stdout);
  }
  nlohmann::json figures = {{"ranks", comm->size()}, {"threads_per_rank", threads},
                            {"global_batch", o.train.batch_size}, {"steps", b.steps}};

  Loader loading(dataset, loader_options);
  const train::StepTiming load = train::time_loading(loading, *comm, b.steps);
  figures["load_sequences_per_s"] = static_cast<double>(load.sessions) / load.seconds;

  Loader loader(dataset, loader_options);
  recommender->train();
  train::reset_peak_device_memory(comm->device());
  if (b.warmup_steps > 0) {
    train::time_train_steps(*recommender, loader, optimizer, *comm, o.train.seed, 0, b.warmup_steps, precision);
  }
  const train::StepTiming t =
      train::time_train_steps(*recommender, loader, optimizer, *comm, o.train.seed, b.warmup_steps, b.steps,
                              precision);
  figures["train_sequences_per_s"] = static_cast<double>(t.sessions) / t.seconds;
  figures["train_positions_per_s"] = static_cast<double>(t.positions) / t.seconds;
  figures["ms_per_step_mean"] = t.mean_ms();
  figures["ms_per_step_p50"] = t.percentile_ms(0.5);
  figures["ms_per_step_p90"] = t.percentile_ms(0.9);
  figures["mean_loss"] = t.mean_loss;
  const std::optional<double> device_peak = train::peak_device_memory_mib(comm->device());
  const std::optional<double> flops =
      model_flops_per_step(o.model, dataset.schema().item().cardinality, static_cast<double>(t.sessions) / b.steps,
                           static_cast<double>(t.positions) / b.steps);
  if (flops) {
    figures["model_flops_per_step"] = *flops;
    figures["model_tflops_per_s"] = *flops * b.steps / t.seconds / 1e12;
  }

  if (lead) {
    std::printf("load      %9.0f sequences/s (loader alone)\n", figures["load_sequences_per_s"].get<double>());
    std::printf("train     %9.0f sequences/s  %9.0f labelled positions/s  ms/step mean %.2f p50 %.2f p90 %.2f"
                "  mean loss %.4f\n",
                figures["train_sequences_per_s"].get<double>(), figures["train_positions_per_s"].get<double>(),
                t.mean_ms(), t.percentile_ms(0.5), t.percentile_ms(0.9), t.mean_loss);
    if (flops) {
      std::printf("model     %9.3f TFLOP/s (%.3g matrix-product FLOPs per step)\n",
                  figures["model_tflops_per_s"].get<double>(), *flops);
    }
    std::fflush(stdout);
  }
  if (!b.trace.empty()) {
    // The profiler's overhead per operator inflates small ones: read shares, not times.
    std::optional<torch::autograd::profiler::RecordProfile> tracer;
    if (lead) tracer.emplace(b.trace);
    train::time_train_steps(*recommender, loader, optimizer, *comm, o.train.seed, b.warmup_steps + b.steps, b.steps,
                           precision);
  }
  if (b.evaluate) {
    const train::EvalOptions eval = train::validation_options(o.train, o.model.max_seq_len);
    comm->barrier();
    const double seconds = seconds_of([&] { train::evaluate(recommender, dataset, eval, *comm); });
    const double sessions = static_cast<double>(dataset.num_sessions(kSplitValid));
    figures["evaluate_sessions_per_s"] = sessions / seconds;
    if (lead) std::printf("evaluate  %9.0f sessions/s (validation split, all items ranked)\n", sessions / seconds);
  }
  const double rss = comm->all_reduce_values({train::peak_rss_mib()}, comm::ReduceOp::Max)[0];
  figures["peak_rss_mib_max"] = rss;
  if (device_peak) {
    figures["peak_gpu_memory_mib"] = comm->all_reduce_values({*device_peak}, comm::ReduceOp::Max)[0];
  }
  if (lead) {
    std::printf("memory    %9.1f MiB peak resident (largest rank)\n", rss);
    if (device_peak) {
      std::printf("memory    %9.1f MiB peak allocated on the GPU by training (largest rank)\n",
                  figures["peak_gpu_memory_mib"].get<double>());
    }
    if (!b.json.empty()) std::ofstream(b.json) << figures.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

Command bench_command() {
  Command c;
  c.name = "bench";
  c.summary = "measure loading, training-step and evaluation throughput of a train configuration";
  c.describe = describe;
  c.run = run;
  return c;
}

}  // namespace seqrec::cli
