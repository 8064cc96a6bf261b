#include "seqrec/data/encoded_features.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <unordered_map>

#include "seqrec/core/error.h"
#include "seqrec/core/log.h"

namespace seqrec {

namespace {

// A raw column without copying it: the log's item and time vectors are not RawColumns.
struct RawValues {
  RawKind kind = RawKind::Categorical;
  const std::vector<std::string>* tokens = nullptr;
  const std::vector<double>* numbers = nullptr;
  const std::vector<std::vector<std::string>>* lists = nullptr;

  static RawValues of(const RawColumn& column) {
    return {column.kind, &column.tokens, &column.numbers, &column.lists};
  }
  int64_t rows() const {
    switch (kind) {
      case RawKind::Categorical: return static_cast<int64_t>(tokens->size());
      case RawKind::Continuous: return static_cast<int64_t>(numbers->size());
      case RawKind::MultiValued: return static_cast<int64_t>(lists->size());
    }
    return 0;
  }
};

// Where the rows of one source (events, item table, user table) are used: in all kept
// sessions (vocabularies) and in the train split (statistics). A row may repeat.
struct RowUse {
  std::shared_ptr<const std::vector<int64_t>> source_rows;  // null: identity
  std::vector<int64_t> kept;
  std::vector<int64_t> train;
};

int64_t source_row(const std::shared_ptr<const std::vector<int64_t>>& rows, int64_t index) {
  return rows ? (*rows)[index] : index;
}

RowUse sequence_use(const FeatureSources& sources, std::shared_ptr<const std::vector<int64_t>> rows) {
  RowUse use;
  use.source_rows = std::move(rows);
  for (int64_t e : sources.sessions.events) {
    const int64_t r = source_row(use.source_rows, e);
    if (r >= 0) use.kept.push_back(r);
  }
  for (const SessionSlice& slice : sources.plan.train) {
    for (int64_t i = 0; i < slice.length; ++i) {
      const int64_t r = source_row(use.source_rows, sources.sessions.event(slice.session, i));
      if (r >= 0) use.train.push_back(r);
    }
  }
  return use;
}

RowUse context_use(const FeatureSources& sources, std::shared_ptr<const std::vector<int64_t>> rows) {
  RowUse use;
  use.source_rows = std::move(rows);
  for (int64_t s = 0; s < sources.sessions.size(); ++s) {
    if ((*use.source_rows)[s] >= 0) use.kept.push_back((*use.source_rows)[s]);
  }
  for (const SessionSlice& slice : sources.plan.train) {
    if ((*use.source_rows)[slice.session] >= 0) use.train.push_back((*use.source_rows)[slice.session]);
  }
  return use;
}

EncodedFeature encode_categorical(const std::string& name, const RawValues& raw, const RowUse& use) {
  const bool multi = raw.kind == RawKind::MultiValued;
  // Empty values are missing: they get the unknown id and are not counted.
  std::unordered_map<std::string, int64_t> counts;
  int64_t width = 1;
  for (int64_t r : use.kept) {
    if (multi) {
      for (const auto& token : (*raw.lists)[r]) ++counts[token];
      width = std::max<int64_t>(width, (*raw.lists)[r].size());
    } else if (!(*raw.tokens)[r].empty()) {
      ++counts[(*raw.tokens)[r]];
    }
  }
  EncodedFeature feature;
  feature.vocabulary = Vocabulary::from_counts(counts);
  feature.spec.name = name;
  feature.spec.kind = FeatureKind::Categorical;
  feature.spec.dtype = DType::Int64;
  feature.spec.cardinality = feature.vocabulary.size();
  feature.spec.max_values = width;
  feature.spec.vocabulary = "vocab/" + name + ".tsv";

  const int64_t rows = raw.rows();
  std::vector<int64_t> ids((rows + 1) * width, kPaddingId);
  for (int64_t r = 0; r < rows; ++r) {
    if (!multi) {
      ids[r] = feature.vocabulary.id((*raw.tokens)[r]);
      continue;
    }
    // Rows outside the kept sessions may be wider; they are never read.
    const auto& tokens = (*raw.lists)[r];
    const int64_t n = std::min<int64_t>(width, tokens.size());
    for (int64_t i = 0; i < n; ++i) ids[r * width + i] = feature.vocabulary.id(tokens[i]);
  }
  ids[rows * width] = kUnknownId;
  feature.values.values = std::move(ids);
  feature.values.width = width;
  feature.source_rows = use.source_rows;
  return feature;
}

// Two passes (mean, then squared deviations): timestamps have a large mean and a
// comparatively small spread, which a one-pass sum of squares would lose.
FeatureStats train_stats(const std::vector<double>& numbers, const std::vector<int64_t>& train_rows) {
  FeatureStats stats;
  stats.min = std::numeric_limits<double>::infinity();
  stats.max = -std::numeric_limits<double>::infinity();
  double sum = 0;
  int64_t n = 0;
  for (int64_t r : train_rows) {
    const double x = numbers[r];
    if (std::isnan(x)) continue;
    sum += x;
    stats.min = std::min(stats.min, x);
    stats.max = std::max(stats.max, x);
    ++n;
  }
  if (n == 0) return FeatureStats{};
  stats.mean = sum / n;
  double squares = 0;
  for (int64_t r : train_rows) {
    if (!std::isnan(numbers[r])) squares += (numbers[r] - stats.mean) * (numbers[r] - stats.mean);
  }
  stats.stddev = std::sqrt(squares / n);
  return stats;
}

// Missing numbers (empty fields, absent side rows) take the train mean.
template <typename T>
Column numbers_column(const std::vector<double>& numbers, double fill) {
  std::vector<T> values(numbers.size() + 1);
  for (size_t r = 0; r < numbers.size(); ++r) values[r] = static_cast<T>(std::isnan(numbers[r]) ? fill : numbers[r]);
  values.back() = static_cast<T>(fill);
  Column column;
  column.values = std::move(values);
  return column;
}

EncodedFeature encode_continuous(const std::string& name, const RawValues& raw, const RowUse& use, DType dtype) {
  EncodedFeature feature;
  feature.spec.name = name;
  feature.spec.kind = FeatureKind::Continuous;
  feature.spec.dtype = dtype;
  feature.spec.stats = train_stats(*raw.numbers, use.train);
  feature.values = dtype == DType::Float64 ? numbers_column<double>(*raw.numbers, feature.spec.stats.mean)
                                           : numbers_column<float>(*raw.numbers, feature.spec.stats.mean);
  feature.source_rows = use.source_rows;
  return feature;
}

EncodedFeature encode(const std::string& name, const RawValues& raw, const RowUse& use, FeatureScope scope,
                      std::vector<std::string> tags) {
  EncodedFeature feature = raw.kind == RawKind::Continuous ? encode_continuous(name, raw, use, DType::Float32)
                                                           : encode_categorical(name, raw, use);
  feature.spec.scope = scope;
  feature.spec.tags = std::move(tags);
  return feature;
}

// Row of each key in a side table, or -1; warns about keys the table lacks.
std::shared_ptr<const std::vector<int64_t>> join(const SideTable& table, const std::vector<std::string>& keys,
                                                 const char* what) {
  auto rows = std::make_shared<std::vector<int64_t>>(keys.size());
  std::set<std::string> missing;
  for (size_t i = 0; i < keys.size(); ++i) {
    (*rows)[i] = table.row_of(keys[i]);
    if ((*rows)[i] < 0) missing.insert(keys[i]);
  }
  if (!missing.empty()) {
    log::warn(table.source, ": no row for ", missing.size(), " ", what, "s (e.g. '", *missing.begin(),
              "'); they get <unk> and train means");
  }
  return rows;
}

void check_name(const std::string& name, std::set<std::string>& names) {
  const bool safe = !name.empty() && name != "." && name != ".." &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
                    });
  if (!safe) fail("feature name '", name, "' must consist of letters, digits, '_', '-' and '.'");
  if (!names.insert(name).second) {
    fail("feature '", name, "' is defined twice (two columns of that name, or a column named like a built-in "
         "feature: ", kItemFeature, ", ", kTimeFeature, ")");
  }
}

}  // namespace

std::vector<EncodedFeature> encode_features(const FeatureSources& sources) {
  const RawEvents& events = sources.events;
  std::vector<EncodedFeature> features;
  const RowUse event_use = sequence_use(sources, nullptr);

  features.push_back(encode(kItemFeature, {RawKind::Categorical, &events.item}, event_use,
                            FeatureScope::Sequence, {kTagItemId}));
  if (events.has_time()) {
    RawValues time{RawKind::Continuous, nullptr, &events.time};
    EncodedFeature feature = encode_continuous(kTimeFeature, time, event_use, DType::Float64);
    feature.spec.tags = {kTagTime};
    features.push_back(std::move(feature));
  }
  for (const RawColumn& column : events.columns) {
    features.push_back(encode(column.name, RawValues::of(column), event_use, FeatureScope::Sequence, {}));
  }
  for (const SideTable& table : sources.item_tables) {
    const RowUse use = sequence_use(sources, join(table, events.item, "item"));
    for (const RawColumn& column : table.columns) {
      features.push_back(encode(column.name, RawValues::of(column), use, FeatureScope::Sequence, {kTagItemSide}));
    }
  }
  for (const SideTable& table : sources.user_tables) {
    if (!events.has_users()) fail(table.source, ": user features need a user column in the log (--user-col)");
    const RowUse use = context_use(sources, join(table, sources.sessions.user, "user"));
    for (const RawColumn& column : table.columns) {
      features.push_back(encode(column.name, RawValues::of(column), use, FeatureScope::Context, {kTagUserSide}));
    }
  }

  if (sources.user_id_feature) {
    if (!events.has_users()) {
      fail("--user-id-feature needs the log's users (--user-col, or a sasrec / user-sequence file)");
    }
    auto sessions = std::make_shared<std::vector<int64_t>>(sources.sessions.size());
    std::iota(sessions->begin(), sessions->end(), 0);
    features.push_back(encode(kUserFeature, {RawKind::Categorical, &sources.sessions.user},
                              context_use(sources, std::move(sessions)), FeatureScope::Context, {kTagUserId}));
  }

  std::set<std::string> names;
  for (const auto& feature : features) check_name(feature.spec.name, names);
  return features;
}

}  // namespace seqrec
