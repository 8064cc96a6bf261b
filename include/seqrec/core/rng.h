// Deterministic random numbers.
//
// std:: distributions differ between standard libraries, so seqrec draws through its own
// small generator (xoshiro256**) and its own bounded-integer and shuffle routines: the
// same seed gives the same data order, masks and samples on every machine.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace seqrec {

// Mixes a base seed with stream identifiers (epoch, rank, stream number...) into an
// independent seed, so that every random choice derives from the one user seed.
uint64_t derive_seed(uint64_t base, std::initializer_list<uint64_t> stream);

// derive_seed(base, {id}) split in two: what depends on the base alone, and a step per id
// that tensor code can repeat elementwise on a GPU (model/keyed_random.cpp):
// derive_seed(base, {id}) == splitmix64 of the state (state ^ (id + offset)), the
// generator's increment and output function.
struct SeedDerivation {
  uint64_t state = 0;
  uint64_t offset = 0;
};
SeedDerivation seed_derivation(uint64_t base);

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  uint64_t next_u64();
  // Uniform in [0, bound), bound > 0, without modulo bias.
  uint64_t uniform(uint64_t bound);
  // Uniform in [0, 1) with 53 random bits.
  double uniform_double();

  template <typename T>
  void shuffle(std::vector<T>& values) {
    for (size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[uniform(i)]);
  }

 private:
  uint64_t s_[4];
};

}  // namespace seqrec
