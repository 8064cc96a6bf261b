// seqrec evaluate: full-catalog ranking metrics of a model file on a prepared data set,
// next to the most-popular baseline.
#include <algorithm>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "seqrec/comm/mpi_environment.h"
#include "seqrec/core/error.h"
#include "seqrec/core/parse.h"
#include "seqrec/core/staged_output.h"
#include "seqrec/data/delimited_text.h"
#include "seqrec/train/evaluator.h"
#include "served_model.h"

namespace seqrec::cli {

namespace {

struct EvaluateCommandOptions {
  ServingOptions serving;
  std::string data;
  std::string split = kSplitTest;
  std::string ks = "1,5,10,20";
  bool exclude_history = false;
  train::SampledProtocol sampled;
  int64_t batch_size = 256;
  std::string output;
};

// One instance per process: Boost binds option values straight into its fields.
EvaluateCommandOptions& bound() {
  static EvaluateCommandOptions options;
  return options;
}

void describe(po::options_description& d) {
  EvaluateCommandOptions& o = bound();
  const EvaluateCommandOptions defaults;
  describe_serving_options(d, o.serving);
  d.add_options()
      ("data", po::value(&o.data)->default_value(defaults.data), "prepared data set directory (prepared like the model's)")
      ("split", po::value(&o.split)->default_value(defaults.split), "split to rank: test | valid")
      ("k", po::value(&o.ks)->default_value(defaults.ks), "cut-offs of the metrics, comma-separated")
      ("exclude_history", po::value(&o.exclude_history)->default_value(defaults.exclude_history), "never rank items already in the session above the target")
      ("sampled_negatives", po::value(&o.sampled.negatives)->default_value(defaults.sampled.negatives), "also rank each target among this many sampled negatives (sampled_* metrics; 0: off), drawn as in training from the model's seed")
      ("sampled_distribution", po::value(&o.sampled.distribution)->default_value(defaults.sampled.distribution), "of the sampled negatives: uniform | popularity (training-split counts)")
      ("sampled_exclude_history", po::value(&o.sampled.exclude_history)->default_value(defaults.sampled.exclude_history), "sampled negatives are never items of the session's input")
      ("batch_size", po::value(&o.batch_size)->default_value(defaults.batch_size), "sessions per batch over all ranks")
      ("output", po::value(&o.output)->default_value(defaults.output), "also write the metrics as JSON to this file");
}

std::vector<int64_t> parse_ks(const std::string& text) {
  std::vector<int64_t> ks;
  for (const std::string& part : split_list(text)) {
    const auto k = parse_int64(part);
    if (!k || *k < 1) fail("--k: '", part, "' is not a positive integer (e.g. --k 1,5,10,20)");
    ks.push_back(*k);
  }
  if (ks.empty()) fail("--k: give at least one cut-off (e.g. --k 1,5,10,20)");
  return ks;
}

// Rows by metric, then by cut-off as a number (hr@5 before hr@10).
void print_metrics(const std::map<std::string, double>& model, const std::map<std::string, double>& popularity) {
  std::vector<std::string> names;
  for (const auto& entry : model) names.push_back(entry.first);
  auto key = [](const std::string& name) {
    const size_t at = name.find('@');
    return std::make_pair(name.substr(0, at), at == std::string::npos ? int64_t{0} : parse_int64(name.substr(at + 1)).value_or(0));
  };
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
  std::printf("%-14s %10s %12s\n", "metric", "model", "popularity");
  for (const std::string& name : names) {
    const auto baseline = popularity.find(name);
    // Session tasks' metrics have no popularity baseline.
    if (baseline == popularity.end()) {
      std::printf("%-14s %10.5f %12s\n", name.c_str(), model.at(name), "-");
    } else {
      std::printf("%-14s %10.5f %12.5f\n", name.c_str(), model.at(name), baseline->second);
    }
  }
}

void write_metrics(const std::filesystem::path& path, const nlohmann::json& report) {
  StagedPath staged(path, /*overwrite=*/true);
  {
    std::ofstream out(staged.temporary());
    out << report.dump(2) << "\n";
    if (!out) fail("cannot write '", path.string(), "'");
  }
  staged.commit();
}

}  // namespace

Command evaluate_command() {
  Command c;
  c.name = "evaluate";
  c.summary = "rank the full catalog for a data split with a model file and report metrics";
  c.describe = describe;
  c.run = [](const po::variables_map&) {
    const EvaluateCommandOptions& o = bound();
    if (o.split != kSplitTest && o.split != kSplitValid) fail("--split: '", o.split, "' is not test or valid");
    if (o.batch_size < 1) fail("--batch_size must be at least 1 (got ", o.batch_size, ")");
    if (o.data.empty()) fail("--data: give the prepared data set directory");
    train::check_sampled_protocol(o.sampled, "--");
    const std::vector<int64_t> ks = parse_ks(o.ks);
    const comm::MpiEnvironment mpi;
    ServedModel served = serve_model(o.serving);
    const Dataset dataset = Dataset::open(o.data);
    train::check_dataset_fits(served.description, o.serving.model, dataset);
    if (dataset.num_sessions(o.split) == 0) fail("data set '", o.data, "' has no sessions in split '", o.split, "'");

    train::EvalOptions eval;
    eval.split = o.split;
    eval.batch_size = o.batch_size;
    eval.max_seq_len = served.description.options.max_seq_len;
    eval.ks = ks;
    eval.exclude_history = o.exclude_history;
    eval.sampled = o.sampled;
    eval.seed = served.description.options.seed;  // the training run's: its sampled negatives again
    const auto metrics = train::evaluate(served.recommender, dataset, eval, *served.comm);
    const auto popularity = train::evaluate_popularity(dataset, eval, *served.comm);
    if (served.comm->rank() == 0) {
      std::printf("model %s on %s split '%s' (%lld sessions)\n", o.serving.model.c_str(), o.data.c_str(),
                  o.split.c_str(), static_cast<long long>(dataset.num_sessions(o.split)));
      print_metrics(metrics, popularity);
      if (!o.output.empty()) {
        write_metrics(o.output, {{"model", o.serving.model},
                                 {"data", o.data},
                                 {"split", o.split},
                                 {"sessions", dataset.num_sessions(o.split)},
                                 {"exclude_history", o.exclude_history},
                                 {"sampled_negatives", o.sampled.negatives},
                                 {"metrics", metrics},
                                 {"popularity", popularity}});
      }
    }
    return 0;
  };
  return c;
}

}  // namespace seqrec::cli
