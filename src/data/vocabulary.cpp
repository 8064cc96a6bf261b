#include "seqrec/data/vocabulary.h"

#include <algorithm>
#include <fstream>

#include "seqrec/core/error.h"
#include "seqrec/core/parse.h"
#include "seqrec/data/schema.h"

namespace seqrec {

namespace {
const std::string kPaddingText = "<pad>";
const std::string kUnknownText = "<unk>";
}  // namespace

Vocabulary Vocabulary::from_counts(const std::unordered_map<std::string, int64_t>& counts,
                                   int64_t min_count) {
  std::vector<std::pair<std::string, int64_t>> kept;
  int64_t unknown = 0;
  for (const auto& [value, count] : counts) {
    if (count >= min_count) kept.emplace_back(value, count);
    else unknown += count;
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Vocabulary vocab;
  vocab.values_ = {kPaddingText, kUnknownText};
  vocab.counts_ = {0, unknown};
  for (auto& [value, count] : kept) {
    vocab.ids_.emplace(value, static_cast<int64_t>(vocab.values_.size()));
    vocab.values_.push_back(value);
    vocab.counts_.push_back(count);
  }
  return vocab;
}

Vocabulary Vocabulary::from_entries(std::vector<std::string> values, std::vector<int64_t> counts,
                                    const std::string& where) {
  if (values.size() != counts.size()) {
    fail(where, ": vocabulary has ", values.size(), " values but ", counts.size(), " counts");
  }
  if (static_cast<int64_t>(values.size()) < kFirstRealId) fail(where, ": vocabulary lacks the reserved ids");
  Vocabulary vocab;
  vocab.values_ = std::move(values);
  vocab.counts_ = std::move(counts);
  for (int64_t id = kFirstRealId; id < vocab.size(); ++id) {
    if (!vocab.ids_.emplace(vocab.values_[static_cast<size_t>(id)], id).second) {
      fail(where, ": vocabulary value '", vocab.values_[static_cast<size_t>(id)], "' appears twice");
    }
  }
  return vocab;
}

int64_t Vocabulary::id(const std::string& value) const {
  auto it = ids_.find(value);
  return it == ids_.end() ? kUnknownId : it->second;
}

bool Vocabulary::contains(const std::string& value) const { return ids_.count(value) > 0; }

const std::string& Vocabulary::value(int64_t id) const {
  if (id < 0 || id >= size()) throw std::out_of_range("Vocabulary::value: id " + std::to_string(id));
  return values_[static_cast<size_t>(id)];
}

int64_t Vocabulary::count(int64_t id) const { return counts_.at(static_cast<size_t>(id)); }

void Vocabulary::save(const std::filesystem::path& path) const {
  std::ofstream out(path);
  out << "id\tvalue\tcount\n";
  for (size_t i = 0; i < values_.size(); ++i) out << i << '\t' << values_[i] << '\t' << counts_[i] << '\n';
  if (!out) fail("cannot write vocabulary '", path.string(), "'");
}

Vocabulary Vocabulary::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) fail("cannot open vocabulary '", path.string(), "'");
  Vocabulary vocab;
  std::string line;
  std::getline(in, line);  // header
  int64_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    const size_t a = line.find('\t');
    const size_t b = line.rfind('\t');
    const auto id = a == std::string::npos ? std::nullopt : parse_int64(std::string_view(line).substr(0, a));
    const auto count = b == a ? std::nullopt : parse_int64(std::string_view(line).substr(b + 1));
    if (!id || !count || *id != vocab.size()) {
      fail(path.string(), ":", line_number, ": expected 'id<TAB>value<TAB>count' with id ", vocab.size());
    }
    std::string value = line.substr(a + 1, b - a - 1);
    if (*id >= kFirstRealId) vocab.ids_.emplace(value, *id);
    vocab.values_.push_back(std::move(value));
    vocab.counts_.push_back(*count);
  }
  if (vocab.size() < kFirstRealId) fail(path.string(), ": vocabulary lacks the reserved ids");
  return vocab;
}

}  // namespace seqrec
