// Throughput and memory of the streaming loader.
//
//   bench_loader [--data DIR] [--sessions N] [--shards S] [--epochs E]
//
// Without --data it writes a synthetic data set of N sessions (default 200000, about 20
// events each, an item-side category and a context feature) in S shards (default 8)
// under the temporary directory and removes it afterwards. Then it streams E epochs
// (default 2) of the training split for each prefetch setting and global batch size,
// with max_seq_len 50, and prints sessions/s, interactions/s (events delivered) and the
// peak resident memory of each run. The consumer does no work with the batches, so the
// prefetch thread has nothing to hide its reading behind: the rates are the loader's own.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "seqrec/core/rng.h"
#include "seqrec/data/dataset_writer.h"
#include "seqrec/data/loader.h"

namespace fs = std::filesystem;
using namespace seqrec;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A "Field:  N kB" line of /proc/self/status in MiB: VmRSS is resident memory now,
// VmHWM its peak since the start or the last reset_peak_rss().
double status_mib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  }
  return 0;
}

void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

FeatureSpec categorical(std::string name, FeatureScope scope, int64_t cardinality, std::vector<std::string> tags) {
  FeatureSpec f;
  f.name = std::move(name);
  f.scope = scope;
  f.cardinality = cardinality;
  f.tags = std::move(tags);
  return f;
}

void write_synthetic(const fs::path& dir, int64_t sessions, int shards) {
  constexpr int64_t kItems = 100000;
  constexpr int64_t kCategories = 500;
  constexpr int64_t kCountries = 50;
  FeatureSpec time;
  time.name = "timestamp";
  time.kind = FeatureKind::Continuous;
  time.dtype = DType::Float64;
  time.tags = {kTagTime};
  const Schema schema({categorical("item_id", FeatureScope::Sequence, kItems, {kTagItemId}),
                       categorical("category", FeatureScope::Sequence, kCategories, {kTagItemSide}), time,
                       categorical("country", FeatureScope::Context, kCountries, {kTagUserSide})});

  Rng rng(7);
  SessionBlock block = SessionBlock::empty(schema, false);
  for (int64_t s = 0; s < sessions; ++s) {
    const auto length = static_cast<int64_t>(1 + rng.uniform(39));  // mean 20
    double t = 1.6e9 + 1e3 * static_cast<double>(s);
    for (int64_t e = 0; e < length; ++e) {
      const auto item = static_cast<int64_t>(kFirstRealId + rng.uniform(kItems - kFirstRealId));
      block.sequence[0].as<int64_t>().push_back(item);
      block.sequence[1].as<int64_t>().push_back(kFirstRealId + item % (kCategories - kFirstRealId));
      block.sequence[2].as<double>().push_back(t += 30 * rng.uniform_double());
    }
    block.context[0].as<int64_t>().push_back(static_cast<int64_t>(kFirstRealId + rng.uniform(kCountries - kFirstRealId)));
    block.session_ids.push_back(s);
    block.offsets.push_back(block.offsets.back() + length);
  }
  DatasetWriter writer(dir, schema);
  writer.write_split(kSplitTrain, block, shards);
  writer.finish("{}");
}

struct Run {
  int64_t sessions = 0;
  int64_t events = 0;
  double seconds = 0;
  double peak_rss_mib = 0;
};

Run stream_epochs(const Dataset& dataset, int64_t global_batch, int64_t prefetch, int64_t epochs) {
  LoaderOptions options;
  options.global_batch_size = global_batch;
  options.prefetch_batches = prefetch;
  options.collate.max_seq_len = 50;
  reset_peak_rss();
  Run run;
  const auto start = std::chrono::steady_clock::now();
  {
    Loader loader(dataset, options);
    for (int64_t epoch = 0; epoch < epochs; ++epoch) {
      while (std::optional<Batch> batch = loader.next()) {
        run.sessions += batch->size();
        run.events += batch->lengths.sum().item<int64_t>();
      }
    }
  }
  run.seconds = seconds_since(start);
  run.peak_rss_mib = status_mib("VmHWM");
  return run;
}

// Restoring replays the shuffle decisions of the epoch so far and reads the buffers.
double seconds_to_resume_mid_epoch(const Dataset& dataset) {
  LoaderOptions options;
  options.collate.max_seq_len = 50;
  options.prefetch_batches = 0;
  Loader loader(dataset, options);
  const auto start = std::chrono::steady_clock::now();
  LoaderState mid_epoch = loader.state();
  mid_epoch.step = loader.batches_per_epoch() / 2;
  loader.restore(mid_epoch);
  loader.next();
  return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  fs::path data;
  int64_t sessions = 200000;
  int64_t epochs = 2;
  int shards = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--data") data = argv[i + 1];
    else if (flag == "--sessions") sessions = std::atoll(argv[i + 1]);
    else if (flag == "--shards") shards = std::atoi(argv[i + 1]);
    else if (flag == "--epochs") epochs = std::atoll(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--data DIR] [--sessions N] [--shards S] [--epochs E]\n", argv[0]);
      return 2;
    }
  }
  std::string command = argv[0];
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  std::printf("command: %s\n", command.c_str());

  const bool synthetic = data.empty();
  if (synthetic) {
    data = fs::temp_directory_path() / ("seqrec-bench-loader-" + std::to_string(getpid()));
    const auto start = std::chrono::steady_clock::now();
    write_synthetic(data, sessions, shards);
    std::printf("wrote %lld synthetic sessions to %s in %.1f s\n", static_cast<long long>(sessions),
                data.c_str(), seconds_since(start));
  }
  const Dataset dataset = Dataset::open(data);
  std::printf("data set: %lld sessions, %lld events in %zu shards, blocks of %lld sessions\n",
              static_cast<long long>(dataset.num_sessions(kSplitTrain)),
              static_cast<long long>(dataset.num_events(kSplitTrain)), dataset.shards(kSplitTrain).size(),
              static_cast<long long>(dataset.manifest().block_sessions));
  std::printf("loader: streams 64, shuffle_buffer 64, max_seq_len 50, %lld epoch(s) per run\n",
              static_cast<long long>(epochs));
  std::printf("resident before the runs: %.1f MiB\n\n", status_mib("VmRSS"));

  std::printf("%-9s %-6s %12s %16s %8s %14s\n", "prefetch", "batch", "sessions/s", "interactions/s", "seconds",
              "peak RSS MiB");
  for (int64_t prefetch : {0, 4}) {
    for (int64_t batch : {128, 1024}) {
      const Run run = stream_epochs(dataset, batch, prefetch, epochs);
      std::printf("%-9lld %-6lld %12.0f %16.0f %8.2f %14.1f\n", static_cast<long long>(prefetch),
                  static_cast<long long>(batch), run.sessions / run.seconds, run.events / run.seconds, run.seconds,
                  run.peak_rss_mib);
    }
  }
  std::printf("\nrestore to mid-epoch and first batch: %.3f s\n", seconds_to_resume_mid_epoch(dataset));
  if (synthetic) fs::remove_all(data);
  return 0;
}
