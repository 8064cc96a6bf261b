// Small schemas and hand-built batches for the model's tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seqrec/data/batch.h"
#include "seqrec/model/recommender.h"

namespace seqrec::test {

// item_id (`items` ids), genres (sequence, up to 2 per event), price (sequence,
// continuous), time (float64, tagged time), age (context, categorical), income (context,
// continuous).
Schema model_test_schema(int64_t items);

// The sessions of item ids, collated into slots of `max_seq_len`. Side features follow
// from the ids: item i has genres {2 + i % 5, 2 + i % 3}, price i; session s has age
// 2 + s % 4 and income 10 s.
Batch model_test_batch(const std::vector<std::vector<int64_t>>& sessions, int64_t max_seq_len,
                       PaddingSide padding = PaddingSide::Right);

// Small and without dropout, so that tests are fast and deterministic in eval mode.
model::ModelOptions small_model_options(const std::string& body, const std::string& masking, const std::string& loss);

// The message of the UserError that building `options` over model_test_schema(items)
// throws; empty when it builds.
std::string build_error(const model::ModelOptions& options, int64_t items = 30);

// The item sessions of model_test_batch in a shape the tests over-fit: session s starts
// at item 2 + s and steps through the catalogue by 1 + s % 3.
std::vector<std::vector<int64_t>> fixed_sessions(int64_t count, int64_t length, int64_t items);

}  // namespace seqrec::test
