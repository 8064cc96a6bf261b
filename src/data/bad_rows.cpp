#include "seqrec/data/bad_rows.h"

#include "seqrec/core/error.h"

namespace seqrec {

BadRowPolicy parse_bad_row_policy(const std::string& name) {
  if (name == "error") return BadRowPolicy::Error;
  if (name == "skip") return BadRowPolicy::Skip;
  fail("--on-bad-row: unknown policy '", name, "' (expected error or skip)");
}

void BadRows::report(const std::string& where, const std::string& problem) {
  const std::string message = where + ": " + problem;
  if (policy_ == BadRowPolicy::Error) fail(message, " (--on-bad-row=skip skips such rows)");
  if (skipped_++ == 0) first_ = message;
}

}  // namespace seqrec
