// Peak memory of a rank's device, for benchmarks: the caching allocator's high-water mark
// of allocated bytes on a GPU (what a model needs, not what the cache holds).
#pragma once

#include <optional>

#include <torch/torch.h>

namespace seqrec::train {

// Starts a new high-water mark. Nothing on the CPU (peak RSS is the process's own).
void reset_peak_device_memory(torch::Device device);
// MiB allocated at most since the last reset; none on the CPU.
std::optional<double> peak_device_memory_mib(torch::Device device);

}  // namespace seqrec::train
