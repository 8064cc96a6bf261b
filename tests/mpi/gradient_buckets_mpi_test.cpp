// Data-parallel gradients under real ranks: bucketed sums against per-tensor all-reduces
// and against sums every rank computes alone (rank r's input is a function of r), and the
// global gradient norm and clipping against torch's on one process holding everything.
#include <mpi.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "seqrec/comm/mpi_communicator.h"
#include "seqrec/core/error.h"
#include "seqrec/parallel/broadcast_parameters.h"
#include "seqrec/parallel/global_grad_norm.h"
#include "seqrec/parallel/gradient_buckets.h"

namespace seqrec::parallel {
namespace {

class RanksTest : public testing::Test {
 protected:
  // A hang in a broken collective aborts the job within a minute instead of at ctest's limit.
  static void SetUpTestSuite() { comm_ = std::make_shared<comm::MpiCommunicator>(std::chrono::seconds(60)); }
  static void TearDownTestSuite() { comm_.reset(); }

  static int rank() { return comm_->rank(); }
  static int size() { return comm_->size(); }

  static inline std::shared_ptr<comm::MpiCommunicator> comm_;
};
using GradientBucketsTest = RanksTest;
using GlobalGradNormTest = RanksTest;

// Integer-valued parameters and inputs, so that gradients and their sums are exact and
// any order of addition gives the same bits. `unused` gets no gradient; `scale` is float64
// and so lands in a bucket of its own.
struct Net {
  torch::Tensor w1 = (torch::arange(12, torch::kFloat32) - 5).reshape({3, 4}).requires_grad_();
  torch::Tensor b1 = torch::tensor({1.0f, -2.0f, 3.0f}).requires_grad_();
  torch::Tensor w2 = (torch::arange(6, torch::kFloat32) % 4 - 1).reshape({2, 3}).requires_grad_();
  torch::Tensor unused = torch::ones({5}).requires_grad_();
  torch::Tensor scale = torch::tensor({2.0, -1.0}, torch::kFloat64).requires_grad_();

  std::vector<torch::Tensor> parameters() const { return {w1, b1, w2, unused, scale}; }

  torch::Tensor loss(int rank) const {
    const torch::Tensor x = ((torch::arange(8, torch::kFloat32) % 5) - rank).reshape({2, 4});
    const torch::Tensor out = (x.matmul(w1.t()) + b1).matmul(w2.t());
    return (out * scale.to(torch::kFloat32)).sum();
  }
};

torch::Tensor grad_or_zeros(const torch::Tensor& p) { return p.grad().defined() ? p.grad() : torch::zeros_like(p); }

// Every rank's gradients summed, computed here alone.
std::vector<torch::Tensor> summed_locally(int size) {
  std::vector<torch::Tensor> sum;
  for (int r = 0; r < size; ++r) {
    Net net;
    net.loss(r).backward();
    const auto parameters = net.parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
      const torch::Tensor grad = grad_or_zeros(parameters[i]);
      if (r == 0) {
        sum.push_back(grad.clone());
      } else {
        sum[i] += grad;
      }
    }
  }
  return sum;
}

void expect_gradients(const Net& net, const std::vector<torch::Tensor>& expected, const char* what) {
  const auto parameters = net.parameters();
  for (size_t i = 0; i < parameters.size(); ++i) {
    ASSERT_TRUE(parameters[i].grad().defined()) << what << ": parameter " << i << " has no gradient";
    EXPECT_TRUE(torch::equal(parameters[i].grad(), expected[i]))
        << what << ": parameter " << i << "\n" << parameters[i].grad() << "\nexpected\n" << expected[i];
  }
}

// 32 bytes: [unused, w2], [b1, w1] (float32, reverse registration order), [scale].
constexpr int64_t kSmallBuckets = 32;

TEST_F(GradientBucketsTest, SumsEveryRanksGradientsAcrossSeveralBuckets) {
  Net net;
  GradientBuckets buckets(net.parameters(), comm_, kSmallBuckets);
  EXPECT_EQ(buckets.num_buckets(), 3u);
  net.loss(rank()).backward();
  EXPECT_TRUE(torch::equal(net.unused.grad(), torch::zeros({5}))) << "the unused parameter's slot";

  std::vector<torch::Tensor> reduced_one_by_one;
  for (const torch::Tensor& p : net.parameters()) {
    reduced_one_by_one.push_back(p.grad().clone());
    comm_->all_reduce(reduced_one_by_one.back(), comm::ReduceOp::Sum);
  }
  buckets.all_reduce();
  expect_gradients(net, reduced_one_by_one, "against per-tensor all-reduces");
  expect_gradients(net, summed_locally(size()), "against local sums");

  buckets.zero();
  for (const torch::Tensor& p : net.parameters()) EXPECT_EQ(p.grad().abs().sum().item<double>(), 0);
  net.loss(rank()).backward();
  buckets.all_reduce();
  expect_gradients(net, summed_locally(size()), "second step");
}

TEST_F(GradientBucketsTest, ReplacedOrMissingGradientsAreCopiedBackIntoTheirBuckets) {
  Net net;
  GradientBuckets buckets(net.parameters(), comm_, kSmallBuckets);
  net.loss(rank()).backward();
  net.w1.mutable_grad() = net.w1.grad().clone();  // no longer in its bucket
  net.unused.mutable_grad().reset();              // gone: contributes zeros
  buckets.all_reduce();
  expect_gradients(net, summed_locally(size()), "after replacing");
}

// LibTorch's optimizers detach_() gradients in zero_grad (refused on autograd views), and
// 2.x sets them to none by default.
TEST_F(GradientBucketsTest, TorchOptimizersZeroGradKeepsTheSumsRight) {
  Net net;
  GradientBuckets buckets(net.parameters(), comm_, kSmallBuckets);
  torch::optim::SGD sgd(net.parameters(), torch::optim::SGDOptions(0.0));
  for (int step = 0; step < 2; ++step) {
    sgd.zero_grad();
    net.loss(rank()).backward();
    buckets.all_reduce();
    expect_gradients(net, summed_locally(size()), step == 0 ? "first step" : "second step");
  }
}

TEST_F(GradientBucketsTest, OneRankLeavesGradientsAsBackwardMadeThem) {
  Net net;
  auto alone_comm = std::make_shared<comm::MpiCommunicator>(std::chrono::seconds(60), MPI_COMM_SELF);
  GradientBuckets buckets(net.parameters(), alone_comm, kSmallBuckets);
  net.loss(rank()).backward();
  buckets.all_reduce();
  Net alone;
  alone.loss(rank()).backward();
  for (size_t i = 0; i < alone.parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(net.parameters()[i].grad(), grad_or_zeros(alone.parameters()[i]))) << "parameter " << i;
  }
}

// Hooks start each bucket once backward has accumulated all its gradients; with every
// parameter used, all of them start before backward returns, and the sums are the same.
TEST_F(GradientBucketsTest, OverlapStartsFullBucketsDuringBackward) {
  Net net;
  const std::vector<torch::Tensor> used = {net.w1, net.b1, net.w2, net.scale};
  GradientBuckets buckets(used, comm_, kSmallBuckets, /*overlap=*/true);
  ASSERT_EQ(buckets.num_buckets(), 3u);
  for (int step = 0; step < 2; ++step) {
    net.loss(rank()).backward();
    EXPECT_EQ(buckets.started_during_backward(), size() > 1 ? 3u : 0u) << "step " << step;
    buckets.all_reduce();
    const auto expected = summed_locally(size());
    EXPECT_TRUE(torch::equal(net.w1.grad(), expected[0])) << "step " << step;
    EXPECT_TRUE(torch::equal(net.b1.grad(), expected[1])) << "step " << step;
    EXPECT_TRUE(torch::equal(net.w2.grad(), expected[2])) << "step " << step;
    EXPECT_TRUE(torch::equal(net.scale.grad(), expected[4])) << "step " << step;
    buckets.zero();
  }
}

// A parameter without a gradient holds its bucket, and the ones after it, until
// all_reduce(): every rank starts the buckets in the same order whatever backward reached.
TEST_F(GradientBucketsTest, OverlapWaitsForBucketsBackwardLeftIncomplete) {
  Net net;
  GradientBuckets buckets(net.parameters(), comm_, kSmallBuckets, /*overlap=*/true);
  net.loss(rank()).backward();
  EXPECT_EQ(buckets.started_during_backward(), 0u) << "[unused, w2] comes first and never fills";
  buckets.all_reduce();
  expect_gradients(net, summed_locally(size()), "overlapped");
}

// Destroyed buckets take their hooks with them: a later backward must not call into them.
TEST_F(GradientBucketsTest, OverlapHooksGoWithTheBuckets) {
  Net net;
  { GradientBuckets buckets(net.parameters(), comm_, kSmallBuckets, /*overlap=*/true); }
  net.loss(rank()).backward();
  EXPECT_TRUE(net.w1.grad().defined());
}

TEST_F(GradientBucketsTest, MisuseFails) {
  Net net;
  EXPECT_THROW(GradientBuckets(net.parameters(), comm_, 0), UserError);
  EXPECT_THROW(GradientBuckets({net.w1, net.b1, net.w1}, comm_, kSmallBuckets), UserError);
  EXPECT_THROW(GradientBuckets(net.parameters(), nullptr), UserError);
}

TEST_F(GradientBucketsTest, BroadcastParametersStartsEveryRankFromTheRootsValues) {
  const int root = size() - 1;
  auto values = [](int r) {
    return std::vector<torch::Tensor>{torch::arange(6, torch::kFloat32).reshape({2, 3}) * (r + 1),
                                      torch::full({4}, r, torch::kInt64)};
  };
  std::vector<torch::Tensor> parameters = values(rank());
  parameters[0].requires_grad_();
  // A transposed view: the communicator takes only contiguous tensors.
  parameters.push_back(values(rank())[0].t());
  broadcast_parameters(parameters, *comm_, root);
  const auto expected = values(root);
  EXPECT_TRUE(torch::equal(parameters[0], expected[0])) << parameters[0];
  EXPECT_TRUE(torch::equal(parameters[1], expected[1])) << parameters[1];
  EXPECT_TRUE(torch::equal(parameters[2], expected[0].t())) << parameters[2];
}

// Gradients for the norm tests: replicated ones the same on every rank, one of them
// undefined; shards different on each rank, rank 0's second shard without a gradient.
struct Grads {
  std::vector<torch::Tensor> replicated{torch::zeros({3, 4}).requires_grad_(), torch::zeros({5}).requires_grad_(),
                                        torch::zeros({2}).requires_grad_()};
  std::vector<torch::Tensor> sharded{torch::zeros({2, 3}).requires_grad_(), torch::zeros({4}).requires_grad_()};

  explicit Grads(int rank) {
    replicated[0].mutable_grad() = torch::sin(torch::arange(12, torch::kFloat32)).reshape({3, 4});
    replicated[2].mutable_grad() = torch::tensor({0.25f, -1.5f});
    sharded[0].mutable_grad() = torch::cos(torch::arange(6, torch::kFloat32) * (rank + 1)).reshape({2, 3}) * 2;
    if (rank != 0) sharded[1].mutable_grad() = torch::full({4}, 0.5f * rank);
  }
};

// One process holding everything: the replicated parameters once, then every rank's
// shards, as leaves with their gradients (zeros where a rank had none).
std::vector<torch::Tensor> everything(const Grads& grads, comm::Communicator& comm) {
  std::vector<torch::Tensor> all;
  for (const torch::Tensor& p : grads.replicated) {
    all.push_back(p.detach().clone().requires_grad_());
    all.back().mutable_grad() = grad_or_zeros(p).clone();
  }
  for (const torch::Tensor& p : grads.sharded) {
    const torch::Tensor gathered = comm.all_gather(grad_or_zeros(p).contiguous());
    all.push_back(torch::zeros_like(gathered).requires_grad_());
    all.back().mutable_grad() = gathered;
  }
  return all;
}

double norm_of(const std::vector<torch::Tensor>& parameters) {
  double sum = 0;
  for (const torch::Tensor& p : parameters) sum += p.grad().to(torch::kFloat64).square().sum().item<double>();
  return std::sqrt(sum);
}

TEST_F(GlobalGradNormTest, IsTheNormOfEverythingGatheredOnOneRankWithTheSameBitsEverywhere) {
  const Grads grads(rank());
  const double norm = global_grad_norm(grads.replicated, grads.sharded, *comm_);
  const double expected = norm_of(everything(grads, *comm_));
  EXPECT_NEAR(norm, expected, 1e-12 * expected);
  const torch::Tensor norms = comm_->all_gather(torch::full({1}, norm, torch::kFloat64));
  EXPECT_TRUE(torch::equal(norms, torch::full({size()}, norm, torch::kFloat64))) << norms;
}

TEST_F(GlobalGradNormTest, ClipMatchesTorchOnOneProcessHoldingEverything) {
  const Grads grads(rank());
  std::vector<torch::Tensor> reference = everything(grads, *comm_);
  const double max_norm = norm_of(reference) / 3;
  const double reference_norm = torch::nn::utils::clip_grad_norm_(reference, max_norm);
  const double norm = clip_grad_norm(grads.replicated, grads.sharded, max_norm, *comm_);
  // torch sums squares and scales in float32.
  EXPECT_NEAR(norm, reference_norm, 1e-6 * reference_norm);
  for (size_t i = 0; i < grads.replicated.size(); ++i) {
    EXPECT_TRUE(torch::allclose(grad_or_zeros(grads.replicated[i]), reference[i].grad(), 1e-6, 0))
        << "replicated " << i << "\n" << grads.replicated[i].grad() << "\nexpected\n" << reference[i].grad();
  }
  for (size_t i = 0; i < grads.sharded.size(); ++i) {
    const torch::Tensor& p = grads.sharded[i];
    const torch::Tensor mine = reference[grads.replicated.size() + i].grad().chunk(size())[rank()];
    EXPECT_TRUE(torch::allclose(grad_or_zeros(p), mine, 1e-6, 0))
        << "shard " << i << "\n" << grad_or_zeros(p) << "\nexpected\n" << mine;
  }
  EXPECT_FALSE(grads.replicated[1].grad().defined());
  EXPECT_EQ(grads.sharded[1].grad().defined(), rank() != 0);
}

TEST_F(GlobalGradNormTest, ClipLeavesGradientsBelowTheLimitAlone) {
  const Grads grads(rank());
  const Grads untouched(rank());
  const double norm = global_grad_norm(grads.replicated, grads.sharded, *comm_);
  EXPECT_EQ(clip_grad_norm(grads.replicated, grads.sharded, norm * 1.01, *comm_), norm);
  for (size_t i = 0; i < grads.replicated.size(); ++i) {
    EXPECT_TRUE(torch::equal(grad_or_zeros(grads.replicated[i]), grad_or_zeros(untouched.replicated[i])));
  }
  for (size_t i = 0; i < grads.sharded.size(); ++i) {
    EXPECT_TRUE(torch::equal(grad_or_zeros(grads.sharded[i]), grad_or_zeros(untouched.sharded[i])));
  }
}

}  // namespace
}  // namespace seqrec::parallel
