// A small data set of random sessions for the loader's tests.
//
// Every session is generated from its id alone, so a test can rebuild any session a
// batch names and check the row against it.
#pragma once

#include <cstdint>
#include <filesystem>

#include "seqrec/data/dataset.h"
#include "seqrec/data/session_block.h"

namespace seqrec::test {

struct RandomDatasetOptions {
  int64_t train_sessions = 1000;
  int64_t valid_sessions = 100;  // held-out target per session
  int train_shards = 3;
  int64_t block_sessions = 16;
  int64_t max_length = 40;       // event counts are uniform in 1..max_length
  uint64_t seed = 1;
  bool session_labels = false;   // also the context features of session tasks' tests
};

// Sequence features item_id, tags (up to 3 per event) and price (float32); context
// feature device; with session labels also member (two real values) and score (float32),
// both drawn apart from the rest of the session.
Schema random_dataset_schema(bool session_labels = false);

// Session `id`, as the data set holds it: train sessions are ids 0..train_sessions-1,
// valid sessions the next valid_sessions ids, with targets.
SessionBlock random_session(int64_t id, const RandomDatasetOptions& options);

// Writes train and valid splits into `dir` and opens the result.
Dataset write_random_dataset(const std::filesystem::path& dir, const RandomDatasetOptions& options);

}  // namespace seqrec::test
