#include "seqrec/model/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>

#include "seqrec/core/error.h"

namespace seqrec::model {

namespace {

uint64_t draw_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

// SplitMix64's output function on the counter: 64 well-mixed bits per call, four
// elements' worth.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// mask[i] = 0 where the i-th 16-bit lane is below threshold, else scale.
template <typename T>
void fill_mask(T* mask, int64_t n, uint64_t seed, uint32_t threshold, T scale) {
  constexpr int64_t kLanes = 4;
  const int64_t words = (n + kLanes - 1) / kLanes;
  at::parallel_for(0, words, 2048, [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w) {
      uint64_t bits = mix(seed + static_cast<uint64_t>(w) * 0x9E3779B97F4A7C15ULL);
      const int64_t first = w * kLanes;
      const int64_t last = std::min(first + kLanes, n);
      for (int64_t i = first; i < last; ++i, bits >>= 16) {
        mask[i] = (bits & 0xFFFF) < threshold ? T(0) : scale;
      }
    }
  });
}

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p == 0) return x;
  if (!(p > 0 && p < 1)) fail("dropout probability must lie in [0, 1) (got ", p, ")");
  const bool hashed = x.device().is_cpu() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
  if (!hashed) return torch::dropout(x, p, /*train=*/true);
  const auto threshold = static_cast<uint32_t>(std::lround(p * 65536.0));
  torch::Tensor mask = torch::empty(x.sizes(), x.options().requires_grad(false));
  const uint64_t seed = draw_seed();
  if (x.scalar_type() == torch::kFloat) {
    fill_mask(mask.data_ptr<float>(), mask.numel(), seed, threshold, static_cast<float>(1.0 / (1.0 - p)));
  } else {
    fill_mask(mask.data_ptr<double>(), mask.numel(), seed, threshold, 1.0 / (1.0 - p));
  }
  return x * mask;
}

DropoutImpl::DropoutImpl(double p) : p_(p) {
  if (!(p >= 0 && p < 1)) fail("dropout probability must lie in [0, 1) (got ", p, ")");
}

torch::Tensor DropoutImpl::forward(const torch::Tensor& x) { return model::dropout(x, p_, is_training()); }

}  // namespace seqrec::model
