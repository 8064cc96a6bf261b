#include "seqrec/model/keyed_random.h"

#include <cmath>
#include <cstring>

#include <ATen/Parallel.h>

#include "seqrec/core/rng.h"

namespace seqrec::model {

namespace {

// splitmix64's increment and output-function multipliers.
constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kMix1 = 0xbf58476d1ce4e5b9ULL;
constexpr uint64_t kMix2 = 0x94d049bb133111ebULL;

// 24 random bits as a float in [0, 1): every value exact in float32 and below 1.
constexpr float kBitsToUnit = 0x1.0p-24f;

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * kMix1;
  z = (z ^ (z >> 27)) * kMix2;
  return z ^ (z >> 31);
}

// Tensors hold the uint64 bits in int64: additions and products wrap alike, right shifts
// must not carry the sign in.
int64_t bits(uint64_t value) {
  int64_t out;
  std::memcpy(&out, &value, sizeof out);
  return out;
}

torch::Tensor shift_right(const torch::Tensor& z, int k) {
  return z.__rshift__(k).bitwise_and(bits(~uint64_t{0} >> k));
}

torch::Tensor mix(const torch::Tensor& z0) {
  torch::Tensor z = (z0 ^ shift_right(z0, 30)) * bits(kMix1);
  z = (z ^ shift_right(z, 27)) * bits(kMix2);
  return z ^ shift_right(z, 31);
}

// derive_seed(seed, {key}) of every key.
torch::Tensor derived_seeds(const torch::Tensor& keys, uint64_t seed) {
  const SeedDerivation d = seed_derivation(seed);
  return mix(((keys.to(torch::kLong) + bits(d.offset)) ^ bits(d.state)) + bits(kGolden));
}

}  // namespace

uint64_t draw_seed(uint64_t step_seed, Draw purpose) {
  return derive_seed(step_seed, {static_cast<uint64_t>(purpose)});
}

torch::Tensor keyed_uniform(const torch::Tensor& keys, uint64_t seed) {
  if (!keys.device().is_cpu()) return keyed_uniform_elementwise(keys, seed);
  const torch::Tensor flat = keys.reshape({-1}).to(torch::kLong).contiguous();
  torch::Tensor out = torch::empty({flat.numel()}, torch::kFloat32);
  const int64_t* key = flat.data_ptr<int64_t>();
  float* u = out.data_ptr<float>();
  for (int64_t i = 0; i < flat.numel(); ++i) {
    u[i] = static_cast<float>(derive_seed(seed, {static_cast<uint64_t>(key[i])}) >> 40) * kBitsToUnit;
  }
  return out.view(keys.sizes());
}

torch::Tensor keyed_uniform_elementwise(const torch::Tensor& keys, uint64_t seed) {
  return shift_right(derived_seeds(keys, seed), 40).to(torch::kFloat32) * kBitsToUnit;
}

torch::Tensor keyed_gumbel(const torch::Tensor& keys, const torch::Tensor& ids, uint64_t seed) {
  if (!keys.device().is_cpu()) return keyed_gumbel_elementwise(keys, ids, seed);
  const torch::Tensor flat_keys = keys.reshape({-1}).to(torch::kLong).contiguous();
  const torch::Tensor flat_ids = ids.reshape({-1}).to(torch::kCPU, torch::kLong).contiguous();
  const int64_t n = flat_keys.numel(), c = flat_ids.numel();
  torch::Tensor out = torch::empty({n, c}, torch::kFloat32);
  const int64_t* key = flat_keys.data_ptr<int64_t>();
  const int64_t* id = flat_ids.data_ptr<int64_t>();
  float* g = out.data_ptr<float>();
  // N x C values per call (a catalog per position): one derive_seed per key, then one
  // splitmix64 output per id on that key's stream. Scalar float logs, not a vectorised
  // kernel, so that a value does not depend on where in the tensor it is computed; float,
  // not double: they were the larger part of an ELECTRA step.
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint64_t stream = derive_seed(seed, {static_cast<uint64_t>(key[i])});
      float* row = g + i * c;
      for (int64_t j = 0; j < c; ++j) {
        const uint64_t z = mix(stream + (static_cast<uint64_t>(id[j]) + 1) * kGolden);
        // 24 bits, centred in their interval: u in (0, 1), both logs finite; the noise lies
        // in [-2.85, 17.3], cutting tails of probability 3e-8.
        const float u = (static_cast<float>(z >> 40) + 0.5f) * kBitsToUnit;
        row[j] = -std::log(-std::log(u));
      }
    }
  });
  return out;
}

torch::Tensor keyed_gumbel_elementwise(const torch::Tensor& keys, const torch::Tensor& ids, uint64_t seed) {
  const torch::Tensor streams = derived_seeds(keys.reshape({-1}), seed).unsqueeze(1);
  const torch::Tensor steps = (ids.reshape({-1}).to(keys.device(), torch::kLong) + 1) * bits(kGolden);
  const torch::Tensor z = mix(streams + steps.unsqueeze(0));
  const torch::Tensor u = (shift_right(z, 40).to(torch::kFloat32) + 0.5f) * kBitsToUnit;
  return -(-u.log()).log();
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
