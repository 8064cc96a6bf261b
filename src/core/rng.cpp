#include "seqrec/core/rng.h"

namespace seqrec {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t derive_seed(uint64_t base, std::initializer_list<uint64_t> stream) {
  uint64_t state = base;
  uint64_t seed = splitmix64(state);
  for (uint64_t id : stream) {
    state ^= id + 0x632be59bd9b4e019ULL + (seed << 6) + (seed >> 2);
    seed = splitmix64(state);
  }
  return seed;
}

SeedDerivation seed_derivation(uint64_t base) {
  SeedDerivation out;
  out.state = base;
  const uint64_t seed = splitmix64(out.state);
  out.offset = 0x632be59bd9b4e019ULL + (seed << 6) + (seed >> 2);
  return out;
}

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& word : s_) word = splitmix64(x);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Rng::uniform(uint64_t bound) {
  // Rejects the top sliver of the 64-bit range that would make small values likelier.
  const uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % bound);
  uint64_t x;
  do x = next_u64(); while (x >= limit);
  return x % bound;
}

double Rng::uniform_double() { return (next_u64() >> 11) * 0x1.0p-53; }

}  // namespace seqrec
