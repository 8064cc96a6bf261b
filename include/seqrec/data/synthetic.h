// A built-in interaction log with structure a sequential model can learn, for demos
// and tests: deterministic from its seed, no files needed.
//
// Item popularity follows a power law. Every item has a few preferred successors; a
// user's next item is one of the current item's successors with probability
// `follow_probability`, else a popular item. Items carry a category and a price (item
// side features); events carry timestamps a few minutes apart.
#pragma once

#include <cstdint>

#include "seqrec/data/raw_events.h"

namespace seqrec {

struct SyntheticOptions {
  uint64_t seed = 1;
  int64_t users = 2000;
  int64_t items = 500;
  double mean_length = 20;           // mean events per user; every user has at least 3
  int64_t categories = 20;
  int64_t successors = 3;            // preferred next items per item
  double follow_probability = 0.8;
  double popularity_exponent = 1.0;  // Zipf exponent: popularity of rank r ~ 1 / r^exponent
};

struct SyntheticLog {
  RawEvents events;  // users (as sessions), items, times; raw ids "1", "2", ...
  SideTable items;   // columns "category" (categorical) and "price" (continuous)
};

// UserError naming the --synthetic.* option when an option is out of range.
SyntheticLog generate_synthetic(const SyntheticOptions& options);

}  // namespace seqrec
