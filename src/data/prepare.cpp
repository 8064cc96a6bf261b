#include "seqrec/data/prepare.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "seqrec/core/staged_output.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/dataset_writer.h"
#include "seqrec/data/encoded_features.h"
#include "seqrec/data/sessions.h"
#include "seqrec/data/split_block.h"

namespace seqrec {

namespace {

struct Inputs {
  RawEvents events;
  std::vector<SideTable> item_tables;
  std::vector<SideTable> user_tables;
};

Inputs read_inputs(const PrepareOptions& options) {
  Inputs inputs;
  if (options.synthetic) {
    if (!options.inputs.empty() || !options.item_table.path.empty() || !options.user_table.path.empty() ||
        !options.item_attributes.empty()) {
      fail("--synthetic generates its own log; leave out --input and the side tables");
    }
    SyntheticLog log = generate_synthetic(options.synthetic_options);
    inputs.events = std::move(log.events);
    inputs.item_tables.push_back(std::move(log.items));
    return inputs;
  }
  inputs.events = read_event_log(options.inputs, options.log);
  if (!options.item_table.path.empty()) {
    inputs.item_tables.push_back(read_side_table(options.item_table, options.log.bad_rows));
  }
  if (!options.item_attributes.empty()) {
    inputs.item_tables.push_back(read_attribute_map(options.item_attributes, options.item_attributes_name));
  }
  if (!options.user_table.path.empty()) {
    inputs.user_tables.push_back(read_side_table(options.user_table, options.log.bad_rows));
  }
  return inputs;
}

nlohmann::json columns_json(const ColumnSelection& columns) {
  return {{"categorical", columns.categorical},
          {"continuous", columns.continuous},
          {"multi_valued", columns.multi_valued}};
}

nlohmann::json side_table_json(const SideTableOptions& table) {
  if (table.path.empty()) return nullptr;
  return {{"path", table.path.string()}, {"key", table.key_column}, {"columns", columns_json(table.columns)}};
}

// How the data set was made, recorded in the manifest: enough to prepare it again.
std::string source_json(const PrepareOptions& o) {
  nlohmann::json source;
  source["command"] = "prepare";
  if (o.synthetic) {
    const SyntheticOptions& s = o.synthetic_options;
    source["synthetic"] = {{"seed", s.seed},
                           {"users", s.users},
                           {"items", s.items},
                           {"mean_length", s.mean_length},
                           {"categories", s.categories},
                           {"successors", s.successors},
                           {"follow_probability", s.follow_probability},
                           {"popularity_exponent", s.popularity_exponent}};
  } else {
    std::vector<std::string> inputs;
    for (const auto& path : o.inputs) inputs.push_back(path.string());
    source["inputs"] = inputs;
    source["format"] = to_string(o.log.format);
    source["columns"] = {{"session", o.log.session_column},
                         {"user", o.log.user_column},
                         {"item", o.log.item_column},
                         {"time", o.log.time_column},
                         {"time_unit_seconds", o.log.time_unit_seconds},
                         {"extra", columns_json(o.log.extra_columns)}};
    source["on_bad_row"] = o.log.bad_rows == BadRowPolicy::Skip ? "skip" : "error";
    source["item_table"] = side_table_json(o.item_table);
    source["user_table"] = side_table_json(o.user_table);
    source["item_attributes"] = o.item_attributes.empty() ? nlohmann::json(nullptr)
                                                          : nlohmann::json(o.item_attributes.string());
    source["item_attributes_name"] = o.item_attributes_name;
  }
  source["user_id_feature"] = o.user_id_feature;
  source["session_gap_seconds"] = o.session_gap_seconds;
  source["min_item_count"] = o.filter.min_item_count;
  source["min_session_length"] = o.filter.min_session_length;
  source["split"] = {{"rule", to_string(o.split.rule)},
                     {"test_period_seconds", o.split.test_period_seconds},
                     {"valid_period_seconds", o.split.valid_period_seconds}};
  return source.dump();
}

void write_sessions_table(const std::filesystem::path& path, const Sessions& sessions) {
  std::ofstream out(path);
  out << "row\tsession\tuser\n";
  for (int64_t s = 0; s < sessions.size(); ++s) out << s << '\t' << sessions.key[s] << '\t' << sessions.user[s] << '\n';
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

SplitCounts count(const std::vector<SessionSlice>& slices) {
  SplitCounts counts;
  counts.sessions = static_cast<int64_t>(slices.size());
  for (const auto& slice : slices) counts.events += slice.length;
  return counts;
}

void check(const PrepareOptions& o) {
  if (o.output.empty()) fail("--output: no output directory given");
  if (o.num_shards < 1) fail("--shards must be at least 1");
  if (!o.synthetic && o.inputs.empty()) fail("--input: no input file given (or --synthetic for generated data)");
}

}  // namespace

PrepareSummary prepare_dataset(const PrepareOptions& options) {
  check(options);
  if (options.output.has_parent_path()) std::filesystem::create_directories(options.output.parent_path());
  StagedPath staged(options.output, options.overwrite);

  const Inputs inputs = read_inputs(options);
  const RawEvents& events = inputs.events;
  PrepareSummary summary;
  summary.read_events = events.size();
  summary.skipped_rows = events.skipped_rows;

  const Sessions sessions = filter_sessions(sessionize(events, options.session_gap_seconds), events,
                                            options.filter, summary.filter);
  const SplitPlan plan = split_sessions(sessions, events, options.split);
  const std::vector<EncodedFeature> features =
      encode_features({events, sessions, plan, inputs.item_tables, inputs.user_tables, options.user_id_feature});
  std::vector<FeatureSpec> specs;
  for (const auto& feature : features) specs.push_back(feature.spec);
  const Schema schema(std::move(specs));

  const std::filesystem::path dir = staged.temporary();
  std::filesystem::create_directories(dir / "vocab");
  DatasetWriter writer(dir, schema, options.shard);
  const std::pair<const char*, const std::vector<SessionSlice>*> splits[] = {
      {kSplitTrain, &plan.train}, {kSplitValid, &plan.valid}, {kSplitTest, &plan.test}};
  for (const auto& [name, slices] : splits) {
    if (slices->empty()) continue;
    const int shards = static_cast<int>(std::min<int64_t>(options.num_shards, slices->size()));
    writer.write_split(name, build_split_block(schema, features, sessions, *slices), shards);
  }
  for (const auto& feature : features) {
    if (feature.spec.kind == FeatureKind::Categorical) feature.vocabulary.save(dir / feature.spec.vocabulary);
  }
  write_sessions_table(dir / "sessions.tsv", sessions);
  writer.finish(source_json(options));
  staged.commit();

  summary.sessions = sessions.size();
  summary.events = sessions.num_events();
  summary.items = features.front().vocabulary.size() - kFirstRealId;
  summary.split_dropped_sessions = plan.dropped_sessions;
  summary.train = count(plan.train);
  summary.valid = count(plan.valid);
  summary.test = count(plan.test);

  log::info("read ", summary.read_events, " events", summary.skipped_rows ? str_cat(" (skipped ", summary.skipped_rows, " bad rows)") : "");
  log::info("filtered to ", summary.sessions, " sessions, ", summary.events, " events, ", summary.items,
            " items (dropped ", summary.filter.dropped_events, " events, ", summary.filter.dropped_sessions,
            " sessions, ", summary.filter.dropped_items, " items in ", summary.filter.rounds, summary.filter.rounds == 1 ? " pass)" : " passes)");
  log::info("split ", to_string(options.split.rule), ": train ", summary.train.sessions, " sessions / ",
            summary.train.events, " events; valid ", summary.valid.sessions, " / ", summary.valid.events,
            "; test ", summary.test.sessions, " / ", summary.test.events,
            summary.split_dropped_sessions ? str_cat("; dropped ", summary.split_dropped_sessions, " one-event sessions") : "");
  log::info("wrote ", options.output.string());
  return summary;
}

}  // namespace seqrec
