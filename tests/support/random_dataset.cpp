#include "support/random_dataset.h"

#include "seqrec/core/rng.h"
#include "seqrec/data/dataset_writer.h"

namespace seqrec::test {

namespace {

// Prime: no rank count divides it, so sharded tables are uneven across ranks.
constexpr int64_t kItems = 499;
constexpr int64_t kTags = 20;
constexpr int64_t kTagsPerEvent = 3;
constexpr int64_t kDevices = 5;

FeatureSpec categorical(std::string name, FeatureScope scope, int64_t cardinality, int64_t max_values) {
  FeatureSpec f;
  f.name = std::move(name);
  f.scope = scope;
  f.cardinality = cardinality;
  f.max_values = max_values;
  return f;
}

// Appends one random event to the columns item_id, tags, price.
void append_event(std::vector<Column>& columns, Rng& rng) {
  columns[0].as<int64_t>().push_back(kFirstRealId + static_cast<int64_t>(rng.uniform(kItems - kFirstRealId)));
  const auto tags = static_cast<int64_t>(1 + rng.uniform(kTagsPerEvent));
  for (int64_t k = 0; k < kTagsPerEvent; ++k) {
    columns[1].as<int64_t>().push_back(
        k < tags ? kFirstRealId + static_cast<int64_t>(rng.uniform(kTags - kFirstRealId)) : kPaddingId);
  }
  columns[2].as<float>().push_back(static_cast<float>(100 * rng.uniform_double()));
}

}  // namespace

Schema random_dataset_schema(bool session_labels) {
  FeatureSpec item = categorical("item_id", FeatureScope::Sequence, kItems, 1);
  item.tags = {kTagItemId};
  FeatureSpec price;
  price.name = "price";
  price.kind = FeatureKind::Continuous;
  price.dtype = DType::Float32;
  price.stats = {50, 29, 0, 100};
  std::vector<FeatureSpec> features{item, categorical("tags", FeatureScope::Sequence, kTags, kTagsPerEvent), price,
                                    categorical("device", FeatureScope::Context, kDevices, 1)};
  if (session_labels) {
    FeatureSpec score = price;
    score.name = "score";
    score.scope = FeatureScope::Context;
    score.stats = {3, 2, -3, 9};
    features.push_back(categorical("member", FeatureScope::Context, 4, 1));
    features.push_back(score);
  }
  return Schema(features);
}

SessionBlock random_session(int64_t id, const RandomDatasetOptions& options) {
  const bool valid = id >= options.train_sessions;
  SessionBlock block = SessionBlock::empty(random_dataset_schema(options.session_labels), valid);
  Rng rng(derive_seed(options.seed, {static_cast<uint64_t>(id)}));
  const auto length = static_cast<int64_t>(1 + rng.uniform(options.max_length));
  for (int64_t t = 0; t < length; ++t) append_event(block.sequence, rng);
  if (valid) append_event(block.targets, rng);
  block.context[0].as<int64_t>().push_back(kFirstRealId + static_cast<int64_t>(rng.uniform(kDevices - kFirstRealId)));
  if (options.session_labels) {
    // A stream of their own: the other columns are those of a data set without them.
    Rng labels(derive_seed(options.seed, {static_cast<uint64_t>(id), 1}));
    block.context[1].as<int64_t>().push_back(kFirstRealId + static_cast<int64_t>(labels.uniform(2)));
    block.context[2].as<float>().push_back(static_cast<float>(3 + 2 * (labels.uniform_double() - 0.5)));
  }
  block.session_ids.push_back(id);
  block.offsets.push_back(length);
  return block;
}

Dataset write_random_dataset(const std::filesystem::path& dir, const RandomDatasetOptions& options) {
  const Schema schema = random_dataset_schema(options.session_labels);
  ShardWriteOptions write;
  write.block_sessions = options.block_sessions;
  write.chunk_events = 1024;
  write.compression_level = 1;
  DatasetWriter writer(dir, schema, write);

  SessionBlock train = SessionBlock::empty(schema, false);
  for (int64_t id = 0; id < options.train_sessions; ++id) train.append_session(random_session(id, options), 0);
  writer.write_split(kSplitTrain, train, options.train_shards);

  SessionBlock valid = SessionBlock::empty(schema, true);
  for (int64_t id = options.train_sessions; id < options.train_sessions + options.valid_sessions; ++id) {
    valid.append_session(random_session(id, options), 0);
  }
  writer.write_split(kSplitValid, valid, 1);
  writer.finish("{}");
  return Dataset::open(dir);
}

}  // namespace seqrec::test
