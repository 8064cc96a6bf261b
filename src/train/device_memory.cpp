#include "seqrec/train/device_memory.h"

#ifdef SEQREC_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace seqrec::train {

void reset_peak_device_memory([[maybe_unused]] torch::Device device) {
#ifdef SEQREC_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
}

std::optional<double> peak_device_memory_mib([[maybe_unused]] torch::Device device) {
#ifdef SEQREC_WITH_CUDA
  if (device.is_cuda()) {
    // Entry 0 of a stat array is the aggregate over small and large pools (StatType::AGGREGATE).
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
  }
#endif
  return std::nullopt;
}

}  // namespace seqrec::train
