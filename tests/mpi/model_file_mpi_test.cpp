// The model file round trip under mpirun: a model sharded over the job's ranks writes
// model.h5; read back, it holds the options, schema, vocabularies and weights bit for
// bit, and a local model (one rank) and a sharded one (all ranks) loaded from it give the
// same top-k lists, which are those of next_item_scores.
#include <mpi.h>

#include <limits>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "seqrec/comm/mpi_communicator.h"
#include "seqrec/core/error.h"
#include "seqrec/data/batch.h"
#include "seqrec/data/shard.h"
#include "seqrec/model/model_options_json.h"
#include "seqrec/parallel/sharded_embedding_table.h"
#include "seqrec/train/model_file.h"
#include "seqrec/train/recommend.h"
#include "support/model_batches.h"
#include "support/shared_random_dataset.h"
#include "support/world_and_alone_test.h"

namespace seqrec::train {
namespace {

constexpr int64_t kMaxSeqLen = 10;

test::RandomDatasetOptions data_options() {
  test::RandomDatasetOptions options;
  options.train_sessions = 60;
  options.valid_sessions = 37;  // not a multiple of the batch or the ranks
  options.train_shards = 1;
  options.block_sessions = 8;
  options.max_length = 12;
  return options;
}

model::ModelOptions model_options(uint64_t seed) {
  model::ModelOptions o = test::small_model_options("sasrec", "clm", "ce");
  o.d_model = 16;
  o.max_seq_len = kMaxSeqLen;
  o.use_side_features = true;
  o.seed = seed;
  return o;
}

// Raw values "<feature>-<id>" for every categorical feature.
std::map<std::string, Vocabulary> made_up_vocabularies(const Schema& schema) {
  std::map<std::string, Vocabulary> vocabularies;
  for (const FeatureSpec& f : schema.features()) {
    if (f.kind != FeatureKind::Categorical) continue;
    std::vector<std::string> values = {"<pad>", "<unk>"};
    std::vector<int64_t> counts = {0, 3};
    for (int64_t id = kFirstRealId; id < f.cardinality; ++id) {
      values.push_back(f.name + "-" + std::to_string(id));
      counts.push_back(f.cardinality - id);
    }
    vocabularies.emplace(f.name, Vocabulary::from_entries(values, counts, f.name));
  }
  return vocabularies;
}

// Every parameter by its name in the model file, sharded tables whole.
std::map<std::string, torch::Tensor> whole_parameters(model::RecommenderImpl& model, comm::Communicator& comm) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model.named_modules()) {
    auto* table = dynamic_cast<parallel::ShardedEmbeddingTableImpl*>(item.value().get());
    if (table == nullptr) continue;
    torch::Tensor whole = torch::zeros({table->rows(), table->dim()});
    whole.index_copy_(0, table->global_ids(), table->shard().detach());
    comm.all_reduce(whole, comm::ReduceOp::Sum);  // each row from its one owner, plus zeros
    out[item.key() + ".weight"] = whole;
  }
  for (const auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    if (name.size() < 6 || name.substr(name.size() - 6) != ".shard") out[name] = item.value().detach().clone();
  }
  return out;
}

class ModelFileMpiTest : public test::WorldAndAloneTest {
 protected:
  static void SetUpTestSuite() { set_up("model-file", data_options()); }

  // A model of the data set's schema whose weights are not its initial ones.
  static model::Recommender trained_looking_model(const model::TableFactory& tables, uint64_t seed) {
    torch::manual_seed(static_cast<int64_t>(seed));
    model::Recommender model = model::build_recommender(model_options(seed), shared_->dataset().schema(), tables);
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.mul_(1.5).add_(0.01);
    // Padding rows stay zero, as training keeps them.
    for (const auto& item : model->named_modules()) {
      if (auto* local = dynamic_cast<model::LocalEmbeddingTableImpl*>(item.value().get())) local->weight()[kPaddingId].zero_();
      auto* sharded = dynamic_cast<parallel::ShardedEmbeddingTableImpl*>(item.value().get());
      if (sharded != nullptr && sharded->owner(kPaddingId) == world_->rank()) sharded->shard()[0].zero_();
    }
    model->eval();
    return model;
  }

  static ModelDescription description() {
    const Schema& schema = shared_->dataset().schema();
    return {model_options(11), schema, made_up_vocabularies(schema)};
  }

  std::filesystem::path model_path(const std::string& name) const { return shared_->dataset().dir() / name; }

};

TEST_F(ModelFileMpiTest, RoundTripHoldsEverythingBitForBit) {
  ASSERT_EQ(shared_->error(), "");
  const std::filesystem::path path = model_path("round-trip.h5");
  model::Recommender written = trained_looking_model(parallel::sharded_table_factory(world_, 10), 11);
  const ModelDescription described = description();
  write_model_file(path, *written, described, *world_);

  const ModelDescription read = read_model_file(path);
  EXPECT_EQ(model::model_options_to_json(read.options), model::model_options_to_json(described.options));
  EXPECT_EQ(read.schema.to_json_text(), described.schema.to_json_text());
  ASSERT_EQ(read.vocabularies.size(), described.vocabularies.size());
  for (const auto& [name, vocabulary] : described.vocabularies) {
    ASSERT_TRUE(read.vocabularies.count(name)) << name;
    EXPECT_EQ(read.vocabularies.at(name).values(), vocabulary.values()) << name;
    EXPECT_EQ(read.vocabularies.at(name).counts(), vocabulary.counts()) << name;
  }

  const auto expected = whole_parameters(*written, *world_);
  // Loaded into a local model on one rank, and into a model sharded over all ranks, both
  // built with other initial weights.
  model::Recommender local = trained_looking_model(model::make_local_table, 12);
  model::Recommender sharded = trained_looking_model(parallel::sharded_table_factory(world_, 10), 13);
  load_model_weights(path, *local, *alone_);
  load_model_weights(path, *sharded, *world_);
  for (const auto& [label, loaded] : {std::pair<std::string, std::map<std::string, torch::Tensor>>{
                                          "local", whole_parameters(*local, *alone_)},
                                      {"sharded", whole_parameters(*sharded, *world_)}}) {
    ASSERT_EQ(loaded.size(), expected.size()) << label;
    for (const auto& [name, value] : expected) {
      ASSERT_TRUE(loaded.count(name)) << label << ": " << name;
      EXPECT_TRUE(torch::equal(loaded.at(name), value)) << label << ": " << name;
    }
  }
}

TEST_F(ModelFileMpiTest, ShardedAndLocalModelsLoadedFromTheFileRecommendAlike) {
  ASSERT_EQ(shared_->error(), "");
  const std::filesystem::path path = model_path("recommend.h5");
  model::Recommender written = trained_looking_model(parallel::sharded_table_factory(world_, 0), 11);
  write_model_file(path, *written, description(), *world_);
  const ModelDescription read = read_model_file(path);
  const Schema& schema = read.schema;
  model::Recommender local = load_model(path, read, model::make_local_table, *alone_);
  model::Recommender sharded = load_model(path, read, parallel::sharded_table_factory(world_, 0), *world_);

  const SessionBlock sessions = [&] {
    SessionBlock all = SessionBlock::empty(schema, false);
    for (const ShardEntry& shard : shared_->dataset().shards(kSplitValid)) {
      const ShardReader reader(shared_->dataset().path_of(shard), schema);
      SessionBlock block = reader.read(0, reader.num_sessions());
      block.targets.clear();
      for (int64_t s = 0; s < block.num_sessions(); ++s) all.append_session(block, s);
    }
    return all;
  }();
  ASSERT_EQ(sessions.num_sessions(), data_options().valid_sessions);

  for (const bool exclude_history : {false, true}) {
    RecommendOptions options;
    options.k = 7;
    options.exclude_history = exclude_history;
    options.batch_size = 10;
    options.max_seq_len = kMaxSeqLen;
    const Recommendations alone = recommend(*local, sessions, schema, options, *alone_);
    const Recommendations spread = recommend(*sharded, sessions, schema, options, *world_);

    // What evaluation ranks against: every item's score, history excluded alike.
    CollateOptions collate_options;
    collate_options.max_seq_len = kMaxSeqLen;
    const Batch batch = collate(sessions, schema, collate_options);
    torch::Tensor scores = model::next_item_scores(*local, batch);
    if (exclude_history) {
      const torch::Tensor history = batch.features.at(schema.item().name);
      scores.scatter_(1, history, -std::numeric_limits<float>::infinity());
    }
    const torch::Tensor reference = std::get<1>(scores.topk(options.k, 1));

    ASSERT_EQ(alone.ids.sizes(), reference.sizes());
    EXPECT_TRUE(torch::equal(alone.ids, reference)) << "exclude_history " << exclude_history;
    if (world_->rank() == 0) {
      ASSERT_TRUE(spread.ids.defined());
      EXPECT_TRUE(torch::equal(spread.ids, alone.ids)) << "exclude_history " << exclude_history;
      EXPECT_TRUE(torch::allclose(spread.scores, alone.scores, 1e-5, 1e-6)) << "exclude_history " << exclude_history;
    } else {
      EXPECT_FALSE(spread.ids.defined());
    }
  }
}

TEST_F(ModelFileMpiTest, MismatchesNameTheFileAndTheWeight) {
  ASSERT_EQ(shared_->error(), "");
  const std::filesystem::path path = model_path("mismatch.h5");
  model::Recommender written = trained_looking_model(parallel::sharded_table_factory(world_, 0), 11);
  write_model_file(path, *written, description(), *world_);

  model::ModelOptions wider = model_options(11);
  wider.d_model = 32;
  model::Recommender other = model::build_recommender(wider, shared_->dataset().schema(), model::make_local_table);
  try {
    load_model_weights(path, *other, *alone_);
    ADD_FAILURE() << "a model of another width loaded the file";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("shape"), std::string::npos) << e.what();
  }

  const std::filesystem::path shard = shared_->dataset().path_of(shared_->dataset().shards(kSplitTrain).at(0));
  try {
    read_model_file(shard);
    ADD_FAILURE() << "a shard read as a model file";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("not a seqrec model file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace seqrec::train
