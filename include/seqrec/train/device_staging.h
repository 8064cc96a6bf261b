// Batches onto the rank's device.
//
// On a GPU the host batch is pinned and copied on a side stream; the compute stream waits
// for the copy on the GPU, not on the host, so the copy overlaps whatever compute work is
// still queued (the previous step's optimizer). On the CPU a batch is used where it is.
#pragma once

#include <memory>

#include <torch/torch.h>

#include "seqrec/data/batch.h"

namespace seqrec::train {

class DeviceStaging {
 public:
  explicit DeviceStaging(torch::Device device);
  ~DeviceStaging();
  DeviceStaging(DeviceStaging&&) noexcept;
  DeviceStaging& operator=(DeviceStaging&&) noexcept;

  torch::Device device() const { return device_; }
  // The batch on device(); its tensors may be read by work queued on the current stream.
  Batch stage(const Batch& host);
  // One tensor, the same way (evaluation targets and candidates).
  torch::Tensor stage(const torch::Tensor& host);

 private:
  struct CopyStream;  // the side stream and its event, on a GPU

  torch::Device device_;
  std::unique_ptr<CopyStream> copy_;
};

}  // namespace seqrec::train
