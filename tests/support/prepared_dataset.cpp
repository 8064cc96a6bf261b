#include "support/prepared_dataset.h"

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "seqrec/data/shard.h"

namespace seqrec::test {

PreparedDataset PreparedDataset::open(const std::filesystem::path& dir) {
  PreparedDataset prepared{Dataset::open(dir, /*verify_checksums=*/true), {}, {}, {}};
  for (const auto& feature : prepared.dataset.schema().features()) {
    if (feature.kind == FeatureKind::Categorical) {
      prepared.vocabularies.emplace(feature.name, Vocabulary::load(dir / feature.vocabulary));
    }
  }
  std::ifstream sessions(dir / "sessions.tsv");
  std::string line;
  if (!std::getline(sessions, line) || line != "row\tsession\tuser") {
    throw std::runtime_error("sessions.tsv: bad header '" + line + "'");
  }
  while (std::getline(sessions, line)) {
    const size_t a = line.find('\t');
    const size_t b = line.find('\t', a + 1);
    if (b == std::string::npos || std::stoll(line.substr(0, a)) != static_cast<int64_t>(prepared.session_key.size())) {
      throw std::runtime_error("sessions.tsv: bad line '" + line + "'");
    }
    prepared.session_key.push_back(line.substr(a + 1, b - a - 1));
    prepared.session_user.push_back(line.substr(b + 1));
  }
  return prepared;
}

SessionBlock PreparedDataset::read(const std::string& split) const {
  std::vector<ShardReader> readers;
  for (const auto& shard : dataset.shards(split)) readers.emplace_back(dataset.path_of(shard), dataset.schema());
  SessionBlock all = SessionBlock::empty(dataset.schema(), !readers.empty() && readers[0].has_targets());
  for (const auto& reader : readers) {
    const SessionBlock block = reader.read(0, reader.num_sessions());
    for (int64_t s = 0; s < block.num_sessions(); ++s) all.append_session(block, s);
  }
  return all;
}

int64_t PreparedDataset::column_index(const std::string& feature) const {
  const FeatureSpec& spec = dataset.schema().at(feature);
  const auto features = spec.scope == FeatureScope::Sequence ? dataset.schema().sequence_features()
                                                             : dataset.schema().context_features();
  for (size_t i = 0; i < features.size(); ++i) {
    if (features[i].name == feature) return static_cast<int64_t>(i);
  }
  throw std::logic_error("feature not in its scope: " + feature);
}

std::vector<std::string> PreparedDataset::decode(const std::string& feature, const Column& column,
                                                 int64_t row) const {
  const Vocabulary& vocabulary = vocabularies.at(feature);
  std::vector<std::string> values;
  for (int64_t i = 0; i < column.width; ++i) {
    const int64_t id = column.as<int64_t>()[row * column.width + i];
    if (id != kPaddingId) values.push_back(vocabulary.value(id));
  }
  return values;
}

std::vector<std::string> PreparedDataset::items(const SessionBlock& block, int64_t session) const {
  const std::string item = dataset.schema().item().name;
  const int64_t c = column_index(item);
  std::vector<std::string> items;
  for (int64_t e = block.offsets[session]; e < block.offsets[session + 1]; ++e) {
    items.push_back(decode(item, block.sequence[c], e).at(0));
  }
  if (block.has_targets()) items.push_back(decode(item, block.targets[c], session).at(0));
  return items;
}

std::map<std::string, std::vector<std::string>> full_item_sequences(const PreparedDataset& prepared) {
  std::map<std::string, std::vector<std::string>> sequences;
  for (const char* split : {kSplitTrain, kSplitValid, kSplitTest}) {
    const SessionBlock block = prepared.read(split);
    for (int64_t s = 0; s < block.num_sessions(); ++s) {
      const std::string& key = prepared.session_key.at(block.session_ids[s]);
      const std::vector<std::string> items = prepared.items(block, s);
      std::vector<std::string>& full = sequences[key];
      const std::vector<std::string>& shorter = items.size() < full.size() ? items : full;
      const std::vector<std::string>& longer = items.size() < full.size() ? full : items;
      EXPECT_TRUE(std::equal(shorter.begin(), shorter.end(), longer.begin()))
          << "split " << split << ": session '" << key << "' is not a prefix of its other parts";
      if (items.size() > full.size()) full = items;
    }
  }
  return sequences;
}

}  // namespace seqrec::test
