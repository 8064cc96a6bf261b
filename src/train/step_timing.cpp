#include "seqrec/train/step_timing.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "seqrec/train/device_staging.h"
#include "seqrec/train/train_step.h"

namespace seqrec::train {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Times `steps` calls of step(batch), which returns the labelled positions and the loss.
template <typename Step>
StepTiming time_steps(Loader& loader, comm::Communicator& comm, int64_t steps, const Step& step) {
  StepTiming timing;
  double loss_sum = 0;
  int64_t local_sessions = 0;
  comm.barrier();
  const auto start = Clock::now();
  for (int64_t i = 0; i < steps; ++i) {
    const auto step_start = Clock::now();
    const Batch share = next_batch_across_epochs(loader);
    const auto [positions, loss] = step(i, share);
    timing.step_ms.push_back(ms_since(step_start));
    local_sessions += share.size();
    timing.positions += positions;
    loss_sum += loss;
  }
  comm.barrier();
  timing.seconds = ms_since(start) / 1000;
  timing.step_ms = comm.all_reduce_values(timing.step_ms, comm::ReduceOp::Max);
  timing.sessions = static_cast<int64_t>(
      comm.all_reduce_values({static_cast<double>(local_sessions)}, comm::ReduceOp::Sum)[0]);
  timing.mean_loss = steps > 0 ? loss_sum / static_cast<double>(steps) : 0;
  return timing;
}

}  // namespace

double StepTiming::mean_ms() const {
  double sum = 0;
  for (double ms : step_ms) sum += ms;
  return step_ms.empty() ? 0 : sum / static_cast<double>(step_ms.size());
}

double StepTiming::percentile_ms(double p) const {
  if (step_ms.empty()) return 0;
  std::vector<double> sorted = step_ms;
  std::sort(sorted.begin(), sorted.end());
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

StepTiming time_train_steps(model::RecommenderImpl& model, Loader& loader, DistributedOptimizer& optimizer,
                            comm::Communicator& comm, uint64_t seed, int64_t first_step, int64_t steps,
                            Precision precision) {
  DeviceStaging staging(comm.device());
  return time_steps(loader, comm, steps, [&](int64_t i, const Batch& share) {
    const StepOutcome outcome =
        train_step(model, staging.stage(share), step_seed(seed, first_step + i), optimizer, comm, precision);
    return std::pair<int64_t, double>(outcome.labels, outcome.loss);
  });
}

StepTiming time_loading(Loader& loader, comm::Communicator& comm, int64_t steps) {
  return time_steps(loader, comm, steps, [](int64_t, const Batch&) { return std::pair<int64_t, double>(0, 0.0); });
}

Batch next_batch_across_epochs(Loader& loader) {
  std::optional<Batch> batch = loader.next();
  if (!batch) batch = loader.next();
  return std::move(*batch);
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024;  // Linux reports KiB
}

}  // namespace seqrec::train
