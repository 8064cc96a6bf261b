#include "seqrec/model/keyed_random.h"

#include "seqrec/core/rng.h"

namespace seqrec::model {

uint64_t draw_seed(uint64_t step_seed, Draw purpose) {
  return derive_seed(step_seed, {static_cast<uint64_t>(purpose)});
}

torch::Tensor keyed_uniform(const torch::Tensor& keys, uint64_t seed) {
  const torch::Tensor flat = keys.reshape({-1}).to(torch::kCPU, torch::kLong).contiguous();
  torch::Tensor out = torch::empty({flat.numel()}, torch::kFloat32);
  const int64_t* key = flat.data_ptr<int64_t>();
  float* u = out.data_ptr<float>();
  for (int64_t i = 0; i < flat.numel(); ++i) {
    // 24 random bits: every value is exact in float32 and strictly below 1.
    u[i] = static_cast<float>(derive_seed(seed, {static_cast<uint64_t>(key[i])}) >> 40) * 0x1.0p-24f;
  }
  return out.view(keys.sizes()).to(keys.device());
}

torch::Tensor sample_items(const torch::Tensor& uniforms, const torch::Tensor& cdf) {
  // right=true: the first id whose cdf exceeds u, so ids of zero probability are skipped.
  const torch::Tensor ids = torch::searchsorted(cdf, uniforms.reshape({-1}).to(cdf.dtype()), /*out_int32=*/false,
                                                /*right=*/true);
  return ids.clamp_max(cdf.size(0) - 1).view(uniforms.sizes());
}

torch::Tensor slot_keys(const torch::Tensor& session_ids, int64_t length) {
  return session_ids.unsqueeze(1) * length + torch::arange(length, session_ids.options()).unsqueeze(0);
}

}  // namespace seqrec::model
