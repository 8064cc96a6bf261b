// `seqrec prepare`: options to PrepareOptions, then prepare_dataset.
#include <string>
#include <vector>

#include "command.h"
#include "seqrec/core/error.h"
#include "seqrec/core/parse.h"
#include "seqrec/data/delimited_text.h"
#include "seqrec/data/prepare.h"

namespace seqrec::cli {

namespace {

void describe(po::options_description& o) {
  using strings = std::vector<std::string>;
  // clang-format off
  o.add_options()
      ("input", po::value<strings>()->default_value({}, ""),
       "interaction log file; several (same format, read in order): repeat it or separate with ','")
      ("output", po::value<std::string>()->default_value(""), "data set directory to create")
      ("overwrite", po::bool_switch(), "replace an existing output directory")
      ("format", po::value<std::string>()->default_value("auto"),
       "auto|delimited|sasrec|user-sequence (auto: decided by the file's content)")
      ("session-col", po::value<std::string>()->default_value(""),
       "delimited: session id column; without it sessions are users")
      ("user-col", po::value<std::string>()->default_value(""), "delimited: user id column")
      ("item-col", po::value<std::string>()->default_value("item_id"), "delimited: item id column")
      ("time-col", po::value<std::string>()->default_value(""),
       "delimited: event time column (numbers); without it file order is time order")
      ("time-unit", po::value<std::string>()->default_value("s"), "unit of the time column: s|ms")
      ("categorical", po::value<std::string>()->default_value(""),
       "delimited: per-event categorical columns, comma-separated (':token_seq' columns are multi-valued)")
      ("continuous", po::value<std::string>()->default_value(""), "delimited: per-event numeric columns")
      ("multi-valued", po::value<std::string>()->default_value(""),
       "delimited: per-event columns of space-separated tokens")
      ("item-side", po::value<std::string>()->default_value(""),
       "delimited file of item features, joined on the item id")
      ("item-key", po::value<std::string>()->default_value("item_id"), "item id column of --item-side")
      ("item-categorical", po::value<std::string>()->default_value(""), "categorical columns of --item-side")
      ("item-continuous", po::value<std::string>()->default_value(""), "numeric columns of --item-side")
      ("item-multi-valued", po::value<std::string>()->default_value(""),
       "space-separated token columns of --item-side")
      ("item-attributes", po::value<std::string>()->default_value(""),
       "JSON object item id -> list of attribute ids (a multi-valued item feature)")
      ("item-attributes-name", po::value<std::string>()->default_value("attributes"),
       "feature name of --item-attributes")
      ("user-side", po::value<std::string>()->default_value(""),
       "delimited file of user features (per session), joined on the user id")
      ("user-key", po::value<std::string>()->default_value("user_id"), "user id column of --user-side")
      ("user-categorical", po::value<std::string>()->default_value(""), "categorical columns of --user-side")
      ("user-continuous", po::value<std::string>()->default_value(""), "numeric columns of --user-side")
      ("user-multi-valued", po::value<std::string>()->default_value(""),
       "space-separated token columns of --user-side")
      ("user-id-feature", po::bool_switch(),
       "add the session's user as a categorical context feature 'user_id' (a user embedding, as SSE-PT uses)")
      ("on-bad-row", po::value<std::string>()->default_value("error"),
       "error|skip: stop at a malformed row, or skip and count it")
      ("session-gap", po::value<std::string>()->default_value("0"),
       "split a user's history where events lie further apart than this (90, 30m, 12h, 7d); 0: never")
      ("min-item-count", po::value<int64_t>()->default_value(1),
       "remove items with fewer events (repeated with --min-session-length until stable)")
      ("min-session-length", po::value<int64_t>()->default_value(2), "remove sessions with fewer events")
      ("split", po::value<std::string>()->default_value("leave-last-out"), "leave-last-out|time|none")
      ("test-period", po::value<std::string>()->default_value("0"),
       "--split time: sessions ending in this final period are the test split (e.g. 1d)")
      ("valid-period", po::value<std::string>()->default_value("0"),
       "--split time: sessions ending in the period before the test period are the valid split")
      ("shards", po::value<int>()->default_value(1), "shard files per split (at most one per session)")
      ("block-sessions", po::value<int64_t>()->default_value(512), "sessions per HDF5 chunk")
      ("compression", po::value<int>()->default_value(4), "deflate level of the shards, 0..9")
      ("synthetic", po::bool_switch(), "generate the built-in synthetic log instead of reading --input")
      ("synthetic.seed", po::value<uint64_t>()->default_value(1), "seed of the synthetic log")
      ("synthetic.users", po::value<int64_t>()->default_value(2000), "users (one session each)")
      ("synthetic.items", po::value<int64_t>()->default_value(500), "items")
      ("synthetic.mean-length", po::value<double>()->default_value(20), "mean events per user (>= 3)")
      ("synthetic.categories", po::value<int64_t>()->default_value(20), "item categories")
      ("synthetic.successors", po::value<int64_t>()->default_value(3), "preferred next items per item")
      ("synthetic.follow", po::value<double>()->default_value(0.8, "0.8"),
       "probability that the next item is a preferred successor")
      ("synthetic.exponent", po::value<double>()->default_value(1.0), "Zipf exponent of item popularity");
  // clang-format on
}

double duration_option(const po::variables_map& values, const std::string& name) {
  const std::string text = values[name].as<std::string>();
  const std::optional<double> seconds = parse_duration_seconds(text);
  if (!seconds || *seconds < 0) fail("--", name, ": '", text, "' is not a duration (90, 90s, 30m, 12h, 7d)");
  return *seconds;
}

ColumnSelection columns_option(const po::variables_map& values, const std::string& prefix) {
  ColumnSelection columns;
  columns.categorical = split_list(values[prefix + "categorical"].as<std::string>());
  columns.continuous = split_list(values[prefix + "continuous"].as<std::string>());
  columns.multi_valued = split_list(values[prefix + "multi-valued"].as<std::string>());
  return columns;
}

SideTableOptions side_table_option(const po::variables_map& values, const std::string& side) {
  SideTableOptions table;
  table.path = values[side + "-side"].as<std::string>();
  table.key_column = values[side + "-key"].as<std::string>();
  table.columns = columns_option(values, side + "-");
  if (table.path.empty() && !table.columns.empty()) fail("--", side, "-side: feature columns given but no file");
  return table;
}

PrepareOptions prepare_options(const po::variables_map& values) {
  PrepareOptions o;
  // "a,b" as well as repeated --input, so that --print-config output reads back.
  for (const auto& value : values["input"].as<std::vector<std::string>>()) {
    for (const auto& input : split_list(value)) o.inputs.emplace_back(input);
  }
  o.output = values["output"].as<std::string>();
  o.overwrite = values["overwrite"].as<bool>();

  o.log.format = parse_log_format(values["format"].as<std::string>());
  o.log.session_column = values["session-col"].as<std::string>();
  o.log.user_column = values["user-col"].as<std::string>();
  o.log.item_column = values["item-col"].as<std::string>();
  o.log.time_column = values["time-col"].as<std::string>();
  const std::string unit = values["time-unit"].as<std::string>();
  if (unit != "s" && unit != "ms") fail("--time-unit: unknown unit '", unit, "' (expected s or ms)");
  o.log.time_unit_seconds = unit == "ms" ? 0.001 : 1.0;
  o.log.extra_columns = columns_option(values, "");
  o.log.bad_rows = parse_bad_row_policy(values["on-bad-row"].as<std::string>());
  o.item_table = side_table_option(values, "item");
  o.user_table = side_table_option(values, "user");
  o.item_attributes = values["item-attributes"].as<std::string>();
  o.item_attributes_name = values["item-attributes-name"].as<std::string>();
  o.user_id_feature = values["user-id-feature"].as<bool>();

  o.synthetic = values["synthetic"].as<bool>();
  SyntheticOptions& s = o.synthetic_options;
  s.seed = values["synthetic.seed"].as<uint64_t>();
  s.users = values["synthetic.users"].as<int64_t>();
  s.items = values["synthetic.items"].as<int64_t>();
  s.mean_length = values["synthetic.mean-length"].as<double>();
  s.categories = values["synthetic.categories"].as<int64_t>();
  s.successors = values["synthetic.successors"].as<int64_t>();
  s.follow_probability = values["synthetic.follow"].as<double>();
  s.popularity_exponent = values["synthetic.exponent"].as<double>();

  o.session_gap_seconds = duration_option(values, "session-gap");
  o.filter.min_item_count = values["min-item-count"].as<int64_t>();
  o.filter.min_session_length = values["min-session-length"].as<int64_t>();
  o.split.rule = parse_split_rule(values["split"].as<std::string>());
  o.split.test_period_seconds = duration_option(values, "test-period");
  o.split.valid_period_seconds = duration_option(values, "valid-period");
  if (o.split.rule != SplitRule::Time && (o.split.test_period_seconds > 0 || o.split.valid_period_seconds > 0)) {
    fail("--test-period and --valid-period apply to --split time only");
  }

  o.num_shards = values["shards"].as<int>();
  o.shard.block_sessions = values["block-sessions"].as<int64_t>();
  o.shard.compression_level = values["compression"].as<int>();
  if (o.shard.block_sessions < 1) fail("--block-sessions must be at least 1");
  if (o.shard.compression_level < 0 || o.shard.compression_level > 9) fail("--compression must lie in 0..9");
  return o;
}

}  // namespace

Command prepare_command() {
  return {"prepare", "turn an interaction log (or the synthetic one) into a sharded data set", describe,
          [](const po::variables_map& values) {
            prepare_dataset(prepare_options(values));
            return static_cast<int>(kExitOk);
          },
          ""};
}

}  // namespace seqrec::cli
