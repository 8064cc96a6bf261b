#include "seqrec/train/device_staging.h"

#ifdef SEQREC_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace seqrec::train {

namespace {

template <typename Move>
Batch map_batch(const Batch& host, const Move& move) {
  const auto moved = [&](const torch::Tensor& t) { return t.defined() ? move(t) : t; };
  Batch out;
  out.session_ids = moved(host.session_ids);
  out.lengths = moved(host.lengths);
  out.mask = moved(host.mask);
  for (const auto& [name, tensor] : host.features) out.features[name] = moved(tensor);
  for (const auto& [name, tensor] : host.targets) out.targets[name] = moved(tensor);
  return out;
}

}  // namespace

#ifdef SEQREC_WITH_CUDA
struct DeviceStaging::CopyStream {
  explicit CopyStream(c10::DeviceIndex device)
      : stream(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device)) {}

  Batch stage(const Batch& host, torch::Device device) {
    const c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(device.index());
    Batch out;
    {
      const c10::cuda::CUDAStreamGuard on_copy_stream(stream);
      out = map_batch(host, [&](const torch::Tensor& t) {
        if (!t.is_cpu()) return t.to(device);
        // Only a pinned source copies asynchronously; LibTorch keeps the pinned block
        // alive until its copy is done.
        torch::Tensor on_device = t.pin_memory().to(device, /*non_blocking=*/true);
        // Allocated on the copy stream, read and freed on the compute stream: without
        // this the allocator could give its memory to the next copy while compute reads it.
        on_device.record_stream(compute);
        return on_device;
      });
      copied.record(stream);
    }
    copied.block(compute);
    return out;
  }

  c10::cuda::CUDAStream stream;
  at::cuda::CUDAEvent copied;
};
#else
struct DeviceStaging::CopyStream {
  Batch stage(const Batch& host, torch::Device device) {
    return map_batch(host, [&](const torch::Tensor& t) { return t.to(device); });
  }
};
#endif

DeviceStaging::DeviceStaging(torch::Device device) : device_(device) {
#ifdef SEQREC_WITH_CUDA
  if (device_.is_cuda()) copy_ = std::make_unique<CopyStream>(device_.index());
#else
  if (!device_.is_cpu()) copy_ = std::make_unique<CopyStream>();
#endif
}

DeviceStaging::~DeviceStaging() = default;
DeviceStaging::DeviceStaging(DeviceStaging&&) noexcept = default;
DeviceStaging& DeviceStaging::operator=(DeviceStaging&&) noexcept = default;

Batch DeviceStaging::stage(const Batch& host) { return copy_ ? copy_->stage(host, device_) : host; }

torch::Tensor DeviceStaging::stage(const torch::Tensor& host) {
  if (!copy_ || !host.defined()) return host;
  Batch one;
  one.lengths = host;
  return copy_->stage(one, device_).lengths;
}

}  // namespace seqrec::train
