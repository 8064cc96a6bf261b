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
  // Values and counts by id, the reserved ids included (as values() and counts() give
  // them). UserError naming `where` when the lengths differ, the reserved ids are missing
  // or a real value repeats.
  static Vocabulary from_entries(std::vector<std::string> values, std::vector<int64_t> counts,
                                 const std::string& where);

  int64_t size() const { return static_cast<int64_t>(values_.size()); }  // cardinality, reserved ids included
  int64_t id(const std::string& value) const;       // kUnknownId when absent
  bool contains(const std::string& value) const;
  const std::string& value(int64_t id) const;       // "<pad>", "<unk>" for reserved ids
  int64_t count(int64_t id) const;
  const std::vector<std::string>& values() const { return values_; }  // by id
  const std::vector<int64_t>& counts() const { return counts_; }

  void save(const std::filesystem::path& path) const;
  static Vocabulary load(const std::filesystem::path& path);

 private:
  std::vector<std::string> values_;
  std::vector<int64_t> counts_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace seqrec
