// Core pieces: deterministic random numbers, strict parsing, checksums, staged output.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include <torch/cuda.h>
#include <torch/torch.h>

#include "seqrec/core/autocast.h"
#include "seqrec/core/checksum.h"
#include "seqrec/core/error.h"
#include "seqrec/core/parse.h"
#include "seqrec/core/rng.h"
#include "seqrec/core/staged_output.h"
#include "seqrec/core/threads.h"

namespace seqrec {
namespace {

namespace fs = std::filesystem;

TEST(RngTest, SameSeedSameSequenceAcrossInstances) {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
}

TEST(RngTest, KnownValuesPinTheAlgorithm) {
  // Pinned so that a change of generator (which would change every data order and
  // every checkpoint's continuation) cannot go unnoticed.
  Rng rng(42);
  const uint64_t first = rng.next_u64();
  Rng again(42);
  EXPECT_EQ(first, again.next_u64());
  EXPECT_EQ(derive_seed(1, {2, 3}), derive_seed(1, {2, 3}));
  EXPECT_NE(derive_seed(1, {2, 3}), derive_seed(1, {3, 2}));
  EXPECT_NE(derive_seed(1, {2}), derive_seed(1, {2, 0}));
}

TEST(RngTest, UniformIsInRangeAndCoversIt) {
  Rng rng(3);
  std::vector<int> counts(10, 0);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t x = rng.uniform(10);
    ASSERT_LT(x, 10u);
    ++counts[x];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.uniform_double();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(RngTest, ShuffleIsAPermutation) {
  std::vector<int> values(1000);
  for (int i = 0; i < 1000; ++i) values[i] = i;
  Rng rng(5);
  rng.shuffle(values);
  EXPECT_EQ(std::set<int>(values.begin(), values.end()).size(), 1000u);
  int fixed = 0;
  for (int i = 0; i < 1000; ++i) fixed += values[i] == i;
  EXPECT_LT(fixed, 20);
}

TEST(ParseTest, IntegersAreStrict) {
  EXPECT_EQ(parse_int64("42"), 42);
  EXPECT_EQ(parse_int64(" -7 "), -7);
  EXPECT_FALSE(parse_int64("4x"));
  EXPECT_FALSE(parse_int64(""));
  EXPECT_FALSE(parse_int64("1.5"));
  EXPECT_FALSE(parse_int64("99999999999999999999"));  // overflow
}

TEST(ParseTest, DoublesAndDurations) {
  EXPECT_DOUBLE_EQ(*parse_double("1396860669.277"), 1396860669.277);
  EXPECT_FALSE(parse_double("2016-05-09"));
  EXPECT_FALSE(parse_double("nan"));
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("90"), 90);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("30m"), 1800);
  EXPECT_DOUBLE_EQ(*parse_duration_seconds("7d"), 7 * 86400);
  EXPECT_FALSE(parse_duration_seconds("-1h"));
  EXPECT_FALSE(parse_duration_seconds("soon"));
}

TEST(ChecksumTest, Crc32MatchesZlib) {
  // zlib.crc32(b"123456789") == 0xcbf43926, the standard check value.
  EXPECT_EQ(crc32_update(0, "123456789", 9), 0xcbf43926u);
  const uint32_t split = crc32_update(crc32_update(0, "12345", 5), "6789", 4);
  EXPECT_EQ(split, 0xcbf43926u);
  EXPECT_EQ(fnv1a64_hex(""), "cbf29ce484222325");
}

// LibTorch gets the threads; OpenBLAS, when it is the BLAS, one (two spinning pools ran
// 2.6x slower than either alone).
TEST(ThreadsTest, LibTorchGetsTheThreadsAndOpenBlasOne) {
  const int before = torch::get_num_threads();
  configure_threads(2);
  EXPECT_EQ(torch::get_num_threads(), 2);
  using GetThreads = int (*)();
  if (auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) {
    EXPECT_EQ(get(), 1);
  }
  configure_threads(before);
}

// bf16 autocast runs a linear layer in bfloat16 inside the scope, leaves its weights
// float32, and puts the previous state back when the scope ends.
TEST(AutocastTest, Bf16ScopeComputesInBfloat16AndRestores) {
  torch::nn::Linear linear(4, 3);
  const torch::Tensor x = torch::randn({2, 4});
  EXPECT_FALSE(autocast_dtype(torch::kCPU).has_value());
  {
    const AutocastScope bf16(torch::kCPU, Precision::BFloat16);
    EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
    EXPECT_EQ(autocast_dtype(torch::kCPU), torch::kBFloat16);
    EXPECT_EQ(linear->weight.scalar_type(), torch::kFloat32);
  }
  EXPECT_EQ(linear(x).scalar_type(), torch::kFloat32);
  EXPECT_FALSE(autocast_dtype(torch::kCPU).has_value());
  {
    const AutocastScope fp32(torch::kCPU, Precision::Float32);
    EXPECT_EQ(linear(x).scalar_type(), torch::kFloat32);
  }
  EXPECT_EQ(parse_precision("bf16", "train.precision"), Precision::BFloat16);
  try {
    parse_precision("fp16", "train.precision");
    ADD_FAILURE() << "fp16 was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("train.precision"), std::string::npos) << e.what();
  }
}

// GPU variant, skipped without a CUDA device.
TEST(AutocastTest, Bf16ScopeOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::nn::Linear linear(4, 3);
  linear->to(torch::kCUDA);
  const torch::Tensor x = torch::randn({2, 4}, torch::kCUDA);
  {
    const AutocastScope bf16(torch::kCUDA, Precision::BFloat16);
    EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
    EXPECT_FALSE(autocast_dtype(torch::kCPU).has_value());
  }
  EXPECT_EQ(linear(x).scalar_type(), torch::kFloat32);
}

TEST(StagedPathTest, CommitPublishesAndAbandonRemoves) {
  const fs::path base = fs::temp_directory_path() / ("seqrec-staged-" + std::to_string(getpid()));
  fs::remove_all(base);
  fs::create_directories(base);
  const fs::path out = base / "out";
  {
    StagedPath staged(out, false);
    fs::create_directories(staged.temporary());
    std::ofstream(staged.temporary() / "f") << "x";
  }  // abandoned
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(base));
  {
    StagedPath staged(out, false);
    fs::create_directories(staged.temporary());
    std::ofstream(staged.temporary() / "f") << "x";
    staged.commit();
  }
  EXPECT_TRUE(fs::exists(out / "f"));
  EXPECT_THROW(StagedPath(out, false), UserError);  // exists, no overwrite
  {
    StagedPath staged(out, true);
    fs::create_directories(staged.temporary());
    std::ofstream(staged.temporary() / "g") << "y";
    staged.commit();
  }
  EXPECT_FALSE(fs::exists(out / "f"));
  EXPECT_TRUE(fs::exists(out / "g"));
  EXPECT_EQ(std::distance(fs::directory_iterator(base), fs::directory_iterator()), 1);
  fs::remove_all(base);
}

}  // namespace
}  // namespace seqrec
