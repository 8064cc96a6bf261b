// Learning rate over training steps: linear warm-up, then constant, linear or cosine decay.
#pragma once

#include <cstdint>
#include <string>

namespace seqrec::train {

class LrSchedule {
 public:
  // kind: constant | linear | cosine; decay reaches min_ratio * peak at total_steps.
  LrSchedule(std::string kind, double peak, int64_t warmup_steps, int64_t total_steps, double min_ratio = 0.0);
  double at(int64_t step) const;

 private:
  std::string kind_;
  double peak_;
  int64_t warmup_;
  int64_t total_;
  double min_ratio_;
};

}  // namespace seqrec::train
