// Shards and data set directories: what is written is what is read back, and damage is
// reported with the file's name instead of wrong data.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "seqrec/core/error.h"
#include "seqrec/core/rng.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/dataset_writer.h"
#include "seqrec/data/shard.h"
#include "support/process.h"

namespace seqrec {
namespace {

namespace fs = std::filesystem;

FeatureSpec feature(std::string name, FeatureKind kind, FeatureScope scope, DType dtype,
                    int64_t cardinality, int64_t width, std::vector<std::string> tags) {
  FeatureSpec f;
  f.name = std::move(name);
  f.kind = kind;
  f.scope = scope;
  f.dtype = dtype;
  f.cardinality = cardinality;
  f.max_values = width;
  f.tags = std::move(tags);
  return f;
}

FeatureSpec item_feature() {
  return feature("item_id", FeatureKind::Categorical, FeatureScope::Sequence, DType::Int64, 50, 1, {kTagItemId});
}

Schema rich_schema() {
  return Schema({item_feature(),
                 feature("genres", FeatureKind::Categorical, FeatureScope::Sequence, DType::Int64, 9, 3, {kTagItemSide}),
                 feature("price", FeatureKind::Continuous, FeatureScope::Sequence, DType::Float32, 0, 1, {}),
                 feature("timestamp", FeatureKind::Continuous, FeatureScope::Sequence, DType::Float64, 0, 1, {kTagTime}),
                 feature("age", FeatureKind::Categorical, FeatureScope::Context, DType::Int64, 7, 1, {kTagUserSide})});
}

// Random sessions of lengths 1..12 covering every column type.
SessionBlock random_sessions(const Schema& schema, int64_t count, bool with_targets, uint64_t seed) {
  Rng rng(seed);
  SessionBlock block = SessionBlock::empty(schema, with_targets);
  for (int64_t s = 0; s < count; ++s) {
    const int64_t length = 1 + static_cast<int64_t>(rng.uniform(12));
    block.session_ids.push_back(1000 + s);
    block.offsets.push_back(block.offsets.back() + length);
    const int64_t rows_needed[] = {length, with_targets ? 1 : 0};
    for (int part = 0; part < 2; ++part) {
      std::vector<Column>& columns = part == 0 ? block.sequence : block.targets;
      for (int64_t r = 0; r < rows_needed[part]; ++r) {
        columns[0].as<int64_t>().push_back(2 + static_cast<int64_t>(rng.uniform(48)));
        for (int k = 0; k < 3; ++k) columns[1].as<int64_t>().push_back(static_cast<int64_t>(rng.uniform(9)));
        columns[2].as<float>().push_back(static_cast<float>(rng.uniform_double()));
        columns[3].as<double>().push_back(1.7e9 + rng.uniform_double() * 1e6);
      }
    }
    block.context[0].as<int64_t>().push_back(2 + static_cast<int64_t>(rng.uniform(5)));
  }
  return block;
}

void expect_equal(const SessionBlock& a, const SessionBlock& b) {
  EXPECT_EQ(a.offsets, b.offsets);
  EXPECT_EQ(a.session_ids, b.session_ids);
  ASSERT_EQ(a.sequence.size(), b.sequence.size());
  for (size_t i = 0; i < a.sequence.size(); ++i) EXPECT_EQ(a.sequence[i].values, b.sequence[i].values) << i;
  ASSERT_EQ(a.context.size(), b.context.size());
  for (size_t i = 0; i < a.context.size(); ++i) EXPECT_EQ(a.context[i].values, b.context[i].values) << i;
  ASSERT_EQ(a.targets.size(), b.targets.size());
  for (size_t i = 0; i < a.targets.size(); ++i) EXPECT_EQ(a.targets[i].values, b.targets[i].values) << i;
}

SessionBlock slice(const SessionBlock& all, const Schema& schema, int64_t begin, int64_t end) {
  SessionBlock out = SessionBlock::empty(schema, all.has_targets());
  for (int64_t s = begin; s < end; ++s) out.append_session(all, s);
  return out;
}

class ShardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seqrec-shard-test-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes train (2 shards) and test (1 shard) and returns the sessions written.
  std::pair<SessionBlock, SessionBlock> write_dataset(const fs::path& dir) {
    const Schema schema = rich_schema();
    SessionBlock train = random_sessions(schema, 300, false, 1);
    SessionBlock test = random_sessions(schema, 40, true, 2);
    DatasetWriter writer(dir, schema, ShardWriteOptions{32, 100, 4});
    writer.write_split(kSplitTrain, train, 2);
    writer.write_split(kSplitTest, test, 1);
    writer.finish("{\"source\": \"unit test\"}");
    return {train, test};
  }

  fs::path dir_;
};

TEST_F(ShardTest, BlocksReadBackEqualWhatWasWritten) {
  const auto [train, test] = write_dataset(dir_);
  const Dataset dataset = Dataset::open(dir_, /*verify_checksums=*/true);
  const Schema& schema = dataset.schema();
  EXPECT_EQ(dataset.num_sessions(kSplitTrain), 300);
  EXPECT_EQ(dataset.num_events(kSplitTrain), train.num_events());
  ASSERT_EQ(dataset.shards(kSplitTrain).size(), 2u);

  // Whole shards, and a block straddling chunk boundaries.
  int64_t first = 0;
  for (const auto& entry : dataset.shards(kSplitTrain)) {
    ShardReader reader(dataset.path_of(entry), schema);
    EXPECT_FALSE(reader.has_targets());
    expect_equal(reader.read(0, reader.num_sessions()), slice(train, schema, first, first + entry.sessions));
    expect_equal(reader.read(30, 71), slice(train, schema, first + 30, first + 71));
    first += entry.sessions;
  }
  ShardReader reader(dataset.path_of(dataset.shards(kSplitTest)[0]), schema);
  EXPECT_TRUE(reader.has_targets());
  expect_equal(reader.read(5, 40), slice(test, schema, 5, 40));
  const auto lengths = reader.lengths(0, 3);
  for (int s = 0; s < 3; ++s) EXPECT_EQ(lengths[s], test.length(s));
}

TEST_F(ShardTest, TruncatedShardIsReportedByName) {
  write_dataset(dir_);
  const fs::path shard = dir_ / "train-00001.h5";
  fs::resize_file(shard, fs::file_size(shard) / 2);
  try {
    Dataset::open(dir_);
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("train-00001.h5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ShardReader(shard, rich_schema()), UserError);
}

TEST_F(ShardTest, FlippedBytesNeverReadAsWrongData) {
  const auto written = write_dataset(dir_).first;
  const fs::path shard = dir_ / "train-00000.h5";
  const fs::path pristine = dir_ / "pristine.h5";
  fs::copy_file(shard, pristine);
  const Schema schema = rich_schema();
  const SessionBlock expected = ShardReader(pristine, schema).read(0, 150);

  // Flip one byte at a time across the file: every flip must either be reported, naming
  // the file, or leave the data read back unchanged (bytes HDF5 does not use).
  const auto size = static_cast<std::streamoff>(fs::file_size(pristine));
  int reported = 0, flips = 0;
  for (std::streamoff at = 0; at < size; at += size / 97 + 1, ++flips) {
    fs::copy_file(pristine, shard, fs::copy_options::overwrite_existing);
    std::fstream file(shard, std::ios::in | std::ios::out | std::ios::binary);
    char byte = 0;
    file.seekg(at);
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    file.seekp(at);
    file.write(&byte, 1);
    file.close();
    try {
      ShardReader reader(shard, schema);
      const SessionBlock block = reader.read(0, reader.num_sessions());
      expect_equal(block, expected);
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "flipped byte at offset " << at << " was read as wrong data";
        break;
      }
    } catch (const UserError& e) {
      ++reported;
      EXPECT_NE(std::string(e.what()).find("train-00000.h5"), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(reported, flips / 2) << reported << " of " << flips << " flips reported";
  // The whole-file checksum catches any flip, used or not.
  EXPECT_THROW(Dataset::open(dir_, /*verify_checksums=*/true), UserError);
}

TEST_F(ShardTest, ShardOfAnotherSchemaIsRejected) {
  write_dataset(dir_);
  std::vector<FeatureSpec> features = rich_schema().features();
  features[0].cardinality = 51;  // one more item: a different preparation
  try {
    ShardReader(dir_ / "train-00000.h5", Schema(features));
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("schema"), std::string::npos) << e.what();
  }
}

TEST_F(ShardTest, MissingManifestOrShardIsReported) {
  write_dataset(dir_);
  fs::remove(dir_ / "test-00000.h5");
  EXPECT_THROW(Dataset::open(dir_), UserError);
  fs::remove(dir_ / "manifest.json");
  EXPECT_THROW(Dataset::open(dir_), UserError);
}

// Through the binary: a damaged data set is one line naming the file, and exit code 2.
TEST_F(ShardTest, InspectReportsDamageByFileAndExitsTwo) {
  write_dataset(dir_);
  const auto expect_reported = [&](const std::string& file, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"inspect", dir_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const test::ProcessResult result = test::run_seqrec(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find(file), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  };
  ASSERT_EQ(test::run_seqrec({"inspect", dir_.string(), "--verify"}).exit_code, 0);

  // A byte flipped in place keeps the size: only the checksum notices.
  const fs::path shard = dir_ / "train-00000.h5";
  const fs::path pristine = dir_ / "pristine.h5";
  fs::copy_file(shard, pristine);
  {
    std::fstream file(shard, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(shard) / 3));
    file.put('\x7f');
  }
  expect_reported("train-00000.h5", {"--verify"});
  fs::copy_file(pristine, shard, fs::copy_options::overwrite_existing);

  fs::resize_file(dir_ / "test-00000.h5", 100);  // truncated
  expect_reported("test-00000.h5", {});
}

TEST(SchemaTest, JsonRoundTripKeepsFingerprint) {
  const Schema schema = rich_schema();
  const fs::path path = fs::temp_directory_path() / ("seqrec-schema-" + std::to_string(getpid()) + ".json");
  schema.save(path);
  const Schema loaded = Schema::load(path);
  fs::remove(path);
  EXPECT_EQ(loaded.fingerprint(), schema.fingerprint());
  EXPECT_EQ(loaded.item().name, "item_id");
  EXPECT_EQ(loaded.at("genres").max_values, 3);
  EXPECT_EQ(loaded.context_features().size(), 1u);
}

TEST(SchemaTest, RejectsInvalidSchemas) {
  const FeatureSpec item = item_feature();
  EXPECT_THROW(Schema({item, item}), UserError);                // duplicate name
  FeatureSpec other = item;
  other.name = "other";
  EXPECT_THROW(Schema({item, other}), UserError);               // two item_id features
  other.tags = {};
  other.dtype = DType::Float32;
  EXPECT_THROW(Schema({item, other}), UserError);               // categorical must be int64
  EXPECT_THROW(Schema(std::vector<FeatureSpec>{}), UserError);  // no item_id at all
}

}  // namespace
}  // namespace seqrec
