// What to do with a malformed input row: stop with its location, or skip and count it.
#pragma once

#include <cstdint>
#include <string>

namespace seqrec {

enum class BadRowPolicy { Error, Skip };

BadRowPolicy parse_bad_row_policy(const std::string& name);  // error|skip, else UserError

class BadRows {
 public:
  explicit BadRows(BadRowPolicy policy) : policy_(policy) {}

  // `where` is "file:line". Throws a UserError under Error; counts the row under Skip.
  void report(const std::string& where, const std::string& problem);
  int64_t skipped() const { return skipped_; }
  const std::string& first() const { return first_; }  // the first skipped row's message

 private:
  BadRowPolicy policy_;
  int64_t skipped_ = 0;
  std::string first_;
};

}  // namespace seqrec
