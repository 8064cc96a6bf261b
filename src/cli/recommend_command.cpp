// seqrec recommend: the top-k next items of a model file for given sessions, in raw ids.
#include <cmath>
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "seqrec/comm/mpi_environment.h"
#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "seqrec/core/staged_output.h"
#include "seqrec/data/query_sessions.h"
#include "seqrec/model/input_block.h"
#include "seqrec/train/recommend.h"
#include "served_model.h"

namespace seqrec::cli {

namespace {

struct RecommendCommandOptions {
  ServingOptions serving;
  std::string input;
  std::string split = kSplitTest;
  std::string output;
  int64_t k = 10;
  bool exclude_history = true;
  int64_t batch_size = 256;
};

// One instance per process: Boost binds option values straight into its fields.
RecommendCommandOptions& bound() {
  static RecommendCommandOptions options;
  return options;
}

void describe(po::options_description& d) {
  RecommendCommandOptions& o = bound();
  const RecommendCommandOptions defaults;
  describe_serving_options(d, o.serving);
  d.add_options()
      ("input", po::value(&o.input)->default_value(defaults.input), "sessions: a .csv/.tsv file with columns session_id and items (raw item ids, space-separated, oldest first), or a prepared data set directory")
      ("split", po::value(&o.split)->default_value(defaults.split), "--input is a data set: its split whose sessions get recommendations (train | valid | test)")
      ("output", po::value(&o.output)->default_value(defaults.output), "recommendations: .csv (session_id,rank,item_id,score) or .jsonl (one object per session)")
      ("overwrite", po::bool_switch(), "replace an existing output file")
      ("k", po::value(&o.k)->default_value(defaults.k), "items per session")
      ("exclude_history", po::value(&o.exclude_history)->default_value(defaults.exclude_history), "never recommend items already in the session (its last max_seq_len events, those the model sees)")
      ("batch_size", po::value(&o.batch_size)->default_value(defaults.batch_size), "sessions per batch over all ranks");
}

enum class OutputFormat { Csv, Jsonl };

OutputFormat output_format(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".csv") return OutputFormat::Csv;
  if (ext == ".jsonl") return OutputFormat::Jsonl;
  fail("--output '", path.string(), "': name a .csv or .jsonl file");
}

// A CSV field, quoted when it holds a delimiter, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

void write_recommendations(const std::filesystem::path& path, OutputFormat format, const QuerySessions& query,
                           const train::Recommendations& recs, const Vocabulary& items) {
  StagedPath staged(path, /*overwrite=*/true);
  {
    std::ofstream out(staged.temporary());
    if (format == OutputFormat::Csv) out << "session_id,rank,item_id,score\n";
    const auto scores = recs.scores.accessor<float, 2>();
    const auto ids = recs.ids.accessor<int64_t, 2>();
    char score_text[32];
    for (int64_t s = 0; s < recs.ids.size(0); ++s) {
      const std::string& key = query.keys[static_cast<size_t>(s)];
      nlohmann::json listed = nlohmann::json::array(), listed_scores = nlohmann::json::array();
      for (int64_t j = 0; j < recs.ids.size(1); ++j) {
        if (std::isinf(scores[s][j])) break;  // only excluded items are left
        const std::string& item = items.value(ids[s][j]);
        if (format == OutputFormat::Csv) {
          std::snprintf(score_text, sizeof score_text, "%.9g", scores[s][j]);
          out << csv_field(key) << ',' << j + 1 << ',' << csv_field(item) << ',' << score_text << '\n';
        } else {
          listed.push_back(item);
          listed_scores.push_back(scores[s][j]);
        }
      }
      if (format == OutputFormat::Jsonl) {
        out << nlohmann::json{{"session_id", key}, {"items", listed}, {"scores", listed_scores}}.dump() << '\n';
      }
    }
    if (!out) fail("cannot write '", path.string(), "' (disk full?)");
  }
  staged.commit();
}

}  // namespace

Command recommend_command() {
  Command c;
  c.name = "recommend";
  c.summary = "write the top-k next items of a model file for given sessions";
  c.describe = describe;
  c.run = [](const po::variables_map& values) {
    const RecommendCommandOptions& o = bound();
    if (o.input.empty()) fail("--input: give a sessions file (.csv/.tsv) or a prepared data set directory");
    if (o.output.empty()) fail("--output: give a .csv or .jsonl file to write");
    const OutputFormat format = output_format(o.output);
    // Every rank decides alike (a shared file system), before any collective.
    if (std::filesystem::exists(o.output) && !values["overwrite"].as<bool>()) {
      fail("output '", o.output, "' already exists (pass --overwrite to replace it)");
    }
    if (!std::filesystem::exists(o.input)) fail("--input '", o.input, "' does not exist");
    const comm::MpiEnvironment mpi;
    ServedModel served = serve_model(o.serving);
    const train::ModelDescription& description = served.description;
    const FeatureSpec& item = description.schema.item();
    const auto vocabulary = description.vocabularies.find(item.name);
    if (vocabulary == description.vocabularies.end()) {
      fail("model '", o.serving.model, "' has no vocabulary of '", item.name,
           "' (its data set was prepared without raw ids), so its ids cannot be named");
    }

    QuerySessions query;
    if (std::filesystem::is_directory(o.input)) {
      const Dataset dataset = Dataset::open(o.input);
      train::check_dataset_fits(description, o.serving.model, dataset);
      query = read_query_sessions(dataset, o.split);
    } else {
      if (description.options.use_side_features && !model::side_features(description.schema).empty()) {
        fail("model '", o.serving.model, "' uses side features, which '", o.input,
             "' (item ids only) does not give: pass a prepared data set directory as --input, or train with "
             "--model.side_features false");
      }
      query = read_query_sessions(o.input, description.schema, vocabulary->second);
    }
    if (served.comm->rank() == 0 && (query.unknown_items > 0 || query.dropped_sessions > 0)) {
      log::warn(o.input, ": ", query.unknown_items, " items unknown to the model left out; ", query.dropped_sessions,
                " sessions without a known item get no recommendations");
    }

    train::RecommendOptions options;
    options.k = o.k;
    options.exclude_history = o.exclude_history;
    options.batch_size = o.batch_size;
    options.max_seq_len = description.options.max_seq_len;
    const train::Recommendations recs =
        train::recommend(*served.recommender, query.sessions, description.schema, options, *served.comm);
    if (served.comm->rank() == 0) {
      write_recommendations(o.output, format, query, recs, vocabulary->second);
      log::info("wrote top-", o.k, " items for ", query.keys.size(), " sessions to ", o.output);
    }
    return 0;
  };
  return c;
}

}  // namespace seqrec::cli
