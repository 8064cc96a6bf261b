#include "seqrec/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "seqrec/core/error.h"

namespace seqrec::train {

LrSchedule::LrSchedule(std::string kind, double peak, int64_t warmup_steps, int64_t total_steps, double min_ratio)
    : kind_(std::move(kind)), peak_(peak), warmup_(warmup_steps), total_(total_steps), min_ratio_(min_ratio) {
  if (kind_ != "constant" && kind_ != "linear" && kind_ != "cosine") {
    fail("train.schedule: '", kind_, "' is not one of constant, linear, cosine");
  }
  if (peak_ <= 0) fail("train.lr must be positive (got ", peak_, ")");
  if (warmup_ < 0) fail("train.warmup_steps must not be negative");
}

double LrSchedule::at(int64_t step) const {
  if (step < warmup_) return peak_ * static_cast<double>(step + 1) / static_cast<double>(warmup_);
  if (kind_ == "constant" || total_ <= warmup_) return peak_;
  const double progress = std::min(1.0, static_cast<double>(step - warmup_) / static_cast<double>(total_ - warmup_));
  const double shape = kind_ == "linear" ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
  return peak_ * (min_ratio_ + (1.0 - min_ratio_) * shape);
}

}  // namespace seqrec::train
