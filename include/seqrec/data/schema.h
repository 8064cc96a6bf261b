// What a data set holds: its features, their kinds, where they live and their ranges.
//
// Saved as schema.json beside the shards (see docs/FORMAT.md). The fingerprint is a hash
// of the parts that determine the on-disk layout; every shard carries it, so shards from
// different preparations cannot be mixed silently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace seqrec {

enum class FeatureKind { Categorical, Continuous };
// Sequence features have one value per event, context features one per session.
enum class FeatureScope { Sequence, Context };
enum class DType { Int64, Float32, Float64 };

// Ids every categorical feature reserves; real values start at kFirstRealId, ordered by
// decreasing frequency.
inline constexpr int64_t kPaddingId = 0;
inline constexpr int64_t kUnknownId = 1;  // rare (below min count) or unseen raw values
inline constexpr int64_t kFirstRealId = 2;

// Tags with a meaning to the rest of seqrec.
inline constexpr const char* kTagItemId = "item_id";   // exactly one feature: the item
inline constexpr const char* kTagTime = "time";        // event time, Unix seconds (float64)
inline constexpr const char* kTagItemSide = "item";    // joined from an item-side table
inline constexpr const char* kTagUserSide = "user";    // joined from a user-side table
inline constexpr const char* kTagUserId = "user_id";   // the session's user itself (prepare --user-id-feature)

struct FeatureStats {  // continuous features, over the training split
  double mean = 0, stddev = 0, min = 0, max = 0;
};

struct FeatureSpec {
  std::string name;
  FeatureKind kind = FeatureKind::Categorical;
  FeatureScope scope = FeatureScope::Sequence;
  DType dtype = DType::Int64;
  int64_t cardinality = 0;   // categorical: ids lie in [0, cardinality)
  int64_t max_values = 1;    // > 1: multi-valued, padded with kPaddingId to this width
  std::vector<std::string> tags;
  FeatureStats stats;        // continuous only
  std::string vocabulary;    // categorical: vocabulary file, relative to the data set

  bool has_tag(const std::string& tag) const;
  bool multi_valued() const { return max_values > 1; }
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<FeatureSpec> features);  // validates: unique names, one item_id

  const std::vector<FeatureSpec>& features() const { return features_; }
  std::vector<FeatureSpec> sequence_features() const;  // in schema order
  std::vector<FeatureSpec> context_features() const;
  const FeatureSpec& item() const;                      // the feature tagged item_id
  const FeatureSpec* find(const std::string& name) const;
  const FeatureSpec& at(const std::string& name) const;  // UserError naming it if absent

  std::string fingerprint() const;
  std::string to_json_text() const;

  void save(const std::filesystem::path& path) const;
  static Schema load(const std::filesystem::path& path);  // UserError naming the file
  // The text of to_json_text(); `where` names its origin in errors.
  static Schema from_json_text(const std::string& text, const std::string& where);

 private:
  std::vector<FeatureSpec> features_;
};

const char* to_string(FeatureKind kind);
const char* to_string(FeatureScope scope);
const char* to_string(DType dtype);

}  // namespace seqrec
