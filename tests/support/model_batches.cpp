#include "support/model_batches.h"

#include <string>

#include "seqrec/core/error.h"

namespace seqrec::test {

namespace {

FeatureSpec feature(std::string name, FeatureKind kind, FeatureScope scope, int64_t cardinality) {
  FeatureSpec f;
  f.name = std::move(name);
  f.kind = kind;
  f.scope = scope;
  f.dtype = kind == FeatureKind::Categorical ? DType::Int64 : DType::Float32;
  f.cardinality = cardinality;
  return f;
}

}  // namespace

Schema model_test_schema(int64_t items) {
  FeatureSpec item = feature("item_id", FeatureKind::Categorical, FeatureScope::Sequence, items);
  item.tags = {kTagItemId};
  FeatureSpec genres = feature("genres", FeatureKind::Categorical, FeatureScope::Sequence, 7);
  genres.max_values = 2;
  FeatureSpec price = feature("price", FeatureKind::Continuous, FeatureScope::Sequence, 0);
  price.stats = {static_cast<double>(items) / 2, static_cast<double>(items) / 4, 0, static_cast<double>(items)};
  FeatureSpec time = feature("time", FeatureKind::Continuous, FeatureScope::Sequence, 0);
  time.dtype = DType::Float64;
  time.tags = {kTagTime};
  FeatureSpec income = feature("income", FeatureKind::Continuous, FeatureScope::Context, 0);
  income.stats = {50, 30, 0, 100};
  FeatureSpec age = feature("age", FeatureKind::Categorical, FeatureScope::Context, 6);
  return Schema({item, genres, price, time, age, income});
}

Batch model_test_batch(const std::vector<std::vector<int64_t>>& sessions, int64_t max_seq_len, PaddingSide padding) {
  const Schema schema = model_test_schema(1000);
  SessionBlock block = SessionBlock::empty(schema, /*with_targets=*/false);
  for (size_t s = 0; s < sessions.size(); ++s) {
    for (size_t t = 0; t < sessions[s].size(); ++t) {
      const int64_t item = sessions[s][t];
      block.sequence[0].as<int64_t>().push_back(item);
      block.sequence[1].as<int64_t>().insert(block.sequence[1].as<int64_t>().end(), {2 + item % 5, 2 + item % 3});
      block.sequence[2].as<float>().push_back(static_cast<float>(item));
      block.sequence[3].as<double>().push_back(static_cast<double>(t));
    }
    block.context[0].as<int64_t>().push_back(2 + static_cast<int64_t>(s % 4));
    block.context[1].as<float>().push_back(10.0f * static_cast<float>(s));
    block.session_ids.push_back(static_cast<int64_t>(s));
    block.offsets.push_back(block.offsets.back() + static_cast<int64_t>(sessions[s].size()));
  }
  CollateOptions options;
  options.max_seq_len = max_seq_len;
  options.padding = padding;
  return collate(block, schema, options);
}

std::string build_error(const model::ModelOptions& options, int64_t items) {
  try {
    model::build_recommender(options, model_test_schema(items));
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

model::ModelOptions small_model_options(const std::string& body, const std::string& masking, const std::string& loss) {
  model::ModelOptions o;
  o.body = body;
  o.masking = masking;
  o.loss = loss;
  o.d_model = 32;
  o.layers = 2;
  o.heads = 2;
  o.dropout = 0.0;
  o.max_seq_len = 8;
  o.negatives = 16;
  return o;
}

std::vector<std::vector<int64_t>> fixed_sessions(int64_t count, int64_t length, int64_t items) {
  std::vector<std::vector<int64_t>> sessions;
  for (int64_t s = 0; s < count; ++s) {
    std::vector<int64_t> session;
    for (int64_t t = 0; t < length; ++t) session.push_back(2 + (s + t * (1 + s % 3)) % (items - 2));
    sessions.push_back(session);
  }
  return sessions;
}

}  // namespace seqrec::test
