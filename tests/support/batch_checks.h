// gtest checks on collated batches, shared by the loader's unit and MPI tests.
#pragma once

#include <cstdint>
#include <vector>

#include "seqrec/data/batch.h"
#include "support/random_dataset.h"

namespace seqrec::test {

std::vector<int64_t> session_ids(const Batch& batch);

// Every tensor equal in shape, dtype and values.
void expect_same_batch(const Batch& actual, const Batch& expected);

// Each row of `batch` is its session of the random data set, collated alone.
void expect_rows_hold_their_sessions(const Batch& batch, const RandomDatasetOptions& dataset,
                                     const CollateOptions& collate);

}  // namespace seqrec::test
