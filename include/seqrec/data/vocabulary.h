// Raw values <-> contiguous ids of one categorical feature.
//
// Ids 0 and 1 are reserved (padding, unknown); real values get ids from 2 in order of
// decreasing count, ties broken by the raw value's text so the mapping does not depend
// on input order. Saved as TSV: "id<TAB>value<TAB>count" with a header line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace seqrec {

class Vocabulary {
 public:
  // Values counted fewer than min_count times map to the unknown id.
  static Vocabulary from_counts(const std::unordered_map<std::string, int64_t>& counts,
                                int64_t min_count = 1);

  int64_t size() const { return static_cast<int64_t>(values_.size()); }  // cardinality, reserved ids included
  int64_t id(const std::string& value) const;       // kUnknownId when absent
  bool contains(const std::string& value) const;
  const std::string& value(int64_t id) const;       // "<pad>", "<unk>" for reserved ids
  int64_t count(int64_t id) const;

  void save(const std::filesystem::path& path) const;
  static Vocabulary load(const std::filesystem::path& path);

 private:
  std::vector<std::string> values_;
  std::vector<int64_t> counts_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace seqrec
