#include "seqrec/data/schema.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include <nlohmann/json.hpp>

#include "seqrec/core/checksum.h"
#include "seqrec/core/error.h"

namespace seqrec {

using nlohmann::json;

namespace {

template <typename Enum, size_t N>
Enum parse_enum(const std::string& text, const char* (&names)[N], const Enum (&values)[N],
                const std::string& where) {
  for (size_t i = 0; i < N; ++i) {
    if (text == names[i]) return values[i];
  }
  fail(where, ": unknown value '", text, "'");
}

const char* kKindNames[] = {"categorical", "continuous"};
const FeatureKind kKinds[] = {FeatureKind::Categorical, FeatureKind::Continuous};
const char* kScopeNames[] = {"sequence", "context"};
const FeatureScope kScopes[] = {FeatureScope::Sequence, FeatureScope::Context};
const char* kDTypeNames[] = {"int64", "float32", "float64"};
const DType kDTypes[] = {DType::Int64, DType::Float32, DType::Float64};

// The parts of a feature that decide the on-disk layout and the meaning of ids; stats
// and vocabulary paths are descriptive and stay out of the fingerprint.
json layout_json(const FeatureSpec& f) {
  return {{"name", f.name},          {"kind", to_string(f.kind)},
          {"scope", to_string(f.scope)}, {"dtype", to_string(f.dtype)},
          {"cardinality", f.cardinality}, {"max_values", f.max_values},
          {"tags", f.tags}};
}

json feature_json(const FeatureSpec& f) {
  json j = layout_json(f);
  if (f.kind == FeatureKind::Continuous) {
    j["stats"] = {{"mean", f.stats.mean}, {"stddev", f.stats.stddev}, {"min", f.stats.min}, {"max", f.stats.max}};
  }
  if (!f.vocabulary.empty()) j["vocabulary"] = f.vocabulary;
  return j;
}

FeatureSpec feature_from_json(const json& j, const std::string& where) {
  FeatureSpec f;
  f.name = j.at("name").get<std::string>();
  const std::string at = where + ": feature '" + f.name + "'";
  f.kind = parse_enum(j.at("kind").get<std::string>(), kKindNames, kKinds, at + " kind");
  f.scope = parse_enum(j.at("scope").get<std::string>(), kScopeNames, kScopes, at + " scope");
  f.dtype = parse_enum(j.at("dtype").get<std::string>(), kDTypeNames, kDTypes, at + " dtype");
  f.cardinality = j.value("cardinality", int64_t{0});
  f.max_values = j.value("max_values", int64_t{1});
  f.tags = j.value("tags", std::vector<std::string>{});
  if (j.contains("stats")) {
    const json& s = j["stats"];
    f.stats = {s.value("mean", 0.0), s.value("stddev", 0.0), s.value("min", 0.0), s.value("max", 0.0)};
  }
  f.vocabulary = j.value("vocabulary", std::string{});
  return f;
}

}  // namespace

const char* to_string(FeatureKind kind) { return kKindNames[static_cast<int>(kind)]; }
const char* to_string(FeatureScope scope) { return kScopeNames[static_cast<int>(scope)]; }
const char* to_string(DType dtype) { return kDTypeNames[static_cast<int>(dtype)]; }

bool FeatureSpec::has_tag(const std::string& tag) const {
  return std::find(tags.begin(), tags.end(), tag) != tags.end();
}

Schema::Schema(std::vector<FeatureSpec> features) : features_(std::move(features)) {
  std::set<std::string> names;
  int items = 0;
  for (const auto& f : features_) {
    if (f.name.empty()) fail("schema: a feature has an empty name");
    if (!names.insert(f.name).second) fail("schema: feature '", f.name, "' appears twice");
    if (f.kind == FeatureKind::Categorical) {
      if (f.dtype != DType::Int64) fail("schema: categorical feature '", f.name, "' must be int64");
      if (f.cardinality < kFirstRealId) fail("schema: categorical feature '", f.name, "' has cardinality ", f.cardinality);
    } else if (f.dtype == DType::Int64) {
      fail("schema: continuous feature '", f.name, "' must be float32 or float64");
    }
    if (f.max_values < 1) fail("schema: feature '", f.name, "' has max_values ", f.max_values);
    if (f.has_tag(kTagItemId)) {
      ++items;
      if (f.kind != FeatureKind::Categorical || f.scope != FeatureScope::Sequence || f.multi_valued()) {
        fail("schema: item_id feature '", f.name, "' must be a single-valued categorical sequence feature");
      }
    }
  }
  if (items != 1) fail("schema: exactly one feature must be tagged item_id (found ", items, ")");
}

std::vector<FeatureSpec> Schema::sequence_features() const {
  std::vector<FeatureSpec> out;
  for (const auto& f : features_) if (f.scope == FeatureScope::Sequence) out.push_back(f);
  return out;
}

std::vector<FeatureSpec> Schema::context_features() const {
  std::vector<FeatureSpec> out;
  for (const auto& f : features_) if (f.scope == FeatureScope::Context) out.push_back(f);
  return out;
}

const FeatureSpec& Schema::item() const {
  for (const auto& f : features_) if (f.has_tag(kTagItemId)) return f;
  fail("schema: no feature is tagged item_id");
}

const FeatureSpec* Schema::find(const std::string& name) const {
  for (const auto& f : features_) if (f.name == name) return &f;
  return nullptr;
}

const FeatureSpec& Schema::at(const std::string& name) const {
  if (const FeatureSpec* f = find(name)) return *f;
  std::string known;
  for (const auto& f : features_) known += (known.empty() ? "" : ", ") + f.name;
  fail("schema has no feature '", name, "' (features: ", known, ")");
}

std::string Schema::fingerprint() const {
  json layout = json::array();
  for (const auto& f : features_) layout.push_back(layout_json(f));
  return fnv1a64_hex(layout.dump());
}

std::string Schema::to_json_text() const {
  json j;
  j["format_version"] = 1;
  j["fingerprint"] = fingerprint();
  j["reserved_ids"] = {{"padding", kPaddingId}, {"unknown", kUnknownId}, {"first_real", kFirstRealId}};
  j["features"] = json::array();
  for (const auto& f : features_) j["features"].push_back(feature_json(f));
  return j.dump(2);
}

void Schema::save(const std::filesystem::path& path) const {
  std::ofstream out(path);
  out << to_json_text() << "\n";
  if (!out) fail("cannot write '", path.string(), "'");
}

Schema Schema::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) fail("cannot open schema '", path.string(), "'");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return from_json_text(text, path.string());
}

Schema Schema::from_json_text(const std::string& text, const std::string& where) {
  try {
    const json j = json::parse(text);
    std::vector<FeatureSpec> features;
    for (const auto& f : j.at("features")) features.push_back(feature_from_json(f, where));
    Schema schema(std::move(features));
    if (j.contains("fingerprint") && j["fingerprint"].get<std::string>() != schema.fingerprint()) {
      fail(where, ": fingerprint does not match the features (edited by hand?)");
    }
    return schema;
  } catch (const json::exception& e) {
    fail(where, ": malformed schema: ", e.what());
  }
}

}  // namespace seqrec
