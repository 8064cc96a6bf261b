// Mixed precision: the forward pass's matrix products in bfloat16 through LibTorch's
// autocast, while weights, gradients and optimizer state stay float32 (the "master
// weights": an update far smaller than a weight would round away in bfloat16).
#pragma once

#include <optional>
#include <string>

#include <torch/torch.h>

namespace seqrec {

enum class Precision { Float32, BFloat16 };

// "fp32" | "bf16"; a UserError naming `option` otherwise.
Precision parse_precision(const std::string& value, const std::string& option);

// The dtype autocast computes matrix products in on `device` now; none while it is off.
// Code that recomputes a forward product in backward (outside autocast) uses it to
// recompute in the forward's dtype.
std::optional<torch::ScalarType> autocast_dtype(torch::Device device);

// While alive, autocast runs matrix products, linear layers and attention on `device` in
// bfloat16 and what needs range (softmax, log-sum-exp, losses, norms) in float32, as its
// op lists decide. Nothing for Float32. Scope the forward pass only: backward follows the
// dtypes forward chose.
class AutocastScope {
 public:
  AutocastScope(torch::Device device, Precision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  torch::DeviceType type_;
  bool was_enabled_ = false;
  torch::ScalarType was_dtype_ = torch::kFloat32;
};

}  // namespace seqrec
