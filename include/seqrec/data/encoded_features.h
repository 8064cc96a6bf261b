// The features of a data set being prepared, with their raw values turned into ids and
// numbers once per source row.
//
// A feature's source rows are log events (item, time, per-event columns), item-table
// rows (joined per event through the item id) or user-table rows (joined per session
// through the user). After the source rows every feature has one more row, used for
// keys the side table lacks: the unknown id, or the training mean.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "seqrec/data/raw_events.h"
#include "seqrec/data/schema.h"
#include "seqrec/data/session_block.h"
#include "seqrec/data/sessions.h"
#include "seqrec/data/split.h"
#include "seqrec/data/vocabulary.h"

namespace seqrec {

inline constexpr const char* kItemFeature = "item_id";
inline constexpr const char* kTimeFeature = "timestamp";
inline constexpr const char* kUserFeature = "user_id";

struct EncodedFeature {
  FeatureSpec spec;
  Column values;           // source rows, then the missing row
  Vocabulary vocabulary;   // categorical features only
  // Source row per event (sequence features) or per session (context features); -1
  // when the side table has no row for the key. Null: the event itself is the row.
  std::shared_ptr<const std::vector<int64_t>> source_rows;

  int64_t missing_row() const { return values.rows() - 1; }
  int64_t row(int64_t index) const {
    if (!source_rows) return index;
    const int64_t r = (*source_rows)[index];
    return r < 0 ? missing_row() : r;
  }
};

struct FeatureSources {
  const RawEvents& events;
  const Sessions& sessions;
  const SplitPlan& plan;                    // continuous statistics come from its train part
  const std::vector<SideTable>& item_tables;
  const std::vector<SideTable>& user_tables;
  bool user_id_feature = false;             // the session's user as a categorical context feature
};

// In schema order: sequence features (item_id, timestamp when the log has times, the
// log's own columns, item-table columns), then context features (user-table columns, then
// user_id when asked for).
// Vocabularies count values over all sessions; continuous statistics cover train only.
std::vector<EncodedFeature> encode_features(const FeatureSources& sources);

}  // namespace seqrec
