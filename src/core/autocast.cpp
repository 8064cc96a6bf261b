#include "seqrec/core/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "seqrec/core/error.h"

// LibTorch 2.4 keyed autocast's state by device type; before, each device had functions
// of its own (set_enabled for CUDA, set_cpu_enabled for the CPU).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define SEQREC_AUTOCAST_BY_DEVICE_TYPE 1
#else
#define SEQREC_AUTOCAST_BY_DEVICE_TYPE 0
#endif

namespace seqrec {

namespace {

bool autocast_enabled(torch::DeviceType type) {
#if SEQREC_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

torch::ScalarType current_dtype(torch::DeviceType type) {
#if SEQREC_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(type);
#else
  return type == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

void set_autocast(torch::DeviceType type, bool enabled, torch::ScalarType dtype) {
#if SEQREC_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == torch::kCUDA) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace

std::optional<torch::ScalarType> autocast_dtype(torch::Device device) {
  if (!device.is_cuda() && !device.is_cpu()) return std::nullopt;
  if (!autocast_enabled(device.type())) return std::nullopt;
  return current_dtype(device.type());
}

Precision parse_precision(const std::string& value, const std::string& option) {
  if (value == "fp32") return Precision::Float32;
  if (value == "bf16") return Precision::BFloat16;
  fail(option, ": unknown value '", value, "' (valid: fp32, bf16)");
}

AutocastScope::AutocastScope(torch::Device device, Precision precision) : type_(device.type()) {
  if (precision == Precision::Float32) return;
  if (type_ != torch::kCUDA && type_ != torch::kCPU) fail("bf16 autocast: unsupported device ", device);
  active_ = true;
  was_enabled_ = autocast_enabled(type_);
  was_dtype_ = current_dtype(type_);
  set_autocast(type_, true, torch::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // The outermost scope drops the bfloat16 copies of the weights autocast cached for the pass.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(type_, was_enabled_, was_dtype_);
}

}  // namespace seqrec
