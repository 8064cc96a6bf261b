// Row-sparse optimizers: with every row touched they are torch's own optimizers, bit for
// bit; rows a step does not touch keep their values and their state; a rarely touched row
// moves as AdamW would on the steps it was touched in; state() restores a run exactly.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "seqrec/core/error.h"
#include "seqrec/parallel/row_sparse_adagrad.h"
#include "seqrec/parallel/row_sparse_adam.h"

namespace seqrec::parallel {
namespace {

// Over LibTorch's grain size for element-wise kernels (32768 elements), so the whole-table
// kernels split across threads as torch's optimizers' kernels do.
constexpr int64_t kRows = 1000;
constexpr int64_t kDim = 48;

torch::Tensor table(int64_t rows = kRows, int64_t dim = kDim) {
  torch::manual_seed(7);
  return torch::randn({rows, dim}).requires_grad_();
}

torch::Tensor twin(const torch::Tensor& table) { return table.detach().clone().requires_grad_(); }

torch::Tensor gradient(int step, int64_t rows = kRows, int64_t dim = kDim) {
  torch::manual_seed(100 + step);
  return torch::randn({rows, dim});
}

torch::Tensor every_row(int64_t rows = kRows) { return torch::ones({rows}, torch::kBool); }

std::vector<std::string> names(RowSparseOptimizer& optimizer) {
  std::vector<std::string> out;
  for (const auto& [name, tensor] : optimizer.state()) out.push_back(name);
  return out;
}

std::string largest_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return std::to_string((a - b).abs().max().item<double>());
}

TEST(RowSparseAdamTest, EveryRowTouchedIsTorchAdamWBitForBit) {
  const torch::Tensor ours = table();
  const torch::Tensor theirs = twin(ours);
  RowSparseAdamOptions options;
  options.lr = 1e-2;
  options.weight_decay = 0.01;
  RowSparseAdam adam(ours, options);
  torch::optim::AdamW reference({theirs}, torch::optim::AdamWOptions(1e-2).weight_decay(0.01));
  for (int step = 0; step < 5; ++step) {
    if (step == 3) {
      adam.set_lr(3e-3);
      static_cast<torch::optim::AdamWOptions&>(reference.param_groups()[0].options()).lr(3e-3);
    }
    ours.mutable_grad() = gradient(step);
    theirs.mutable_grad() = gradient(step);
    adam.step(every_row());
    reference.step();
    ASSERT_TRUE(torch::equal(ours, theirs)) << "step " << step << ": differ by up to "
                                            << largest_difference(ours, theirs);
  }
  EXPECT_EQ(adam.step_count(), 5);
}

// Per-row bias correction: a row's moments average only the steps it was touched in.
TEST(RowSparseAdamTest, ARowMovesAsAdamWOnTheStepsItWasTouchedIn) {
  constexpr int64_t rows = 6;
  constexpr int64_t dim = 5;
  const torch::Tensor ours = table(rows, dim);
  RowSparseAdamOptions options;
  options.lr = 1e-2;
  options.weight_decay = 0.1;
  RowSparseAdam adam(ours, options);
  std::vector<torch::Tensor> reference_rows;
  std::vector<std::unique_ptr<torch::optim::AdamW>> references;
  for (int64_t r = 0; r < rows; ++r) {
    reference_rows.push_back(ours.detach()[r].clone().requires_grad_());
    references.push_back(std::make_unique<torch::optim::AdamW>(
        std::vector<torch::Tensor>{reference_rows.back()}, torch::optim::AdamWOptions(1e-2).weight_decay(0.1)));
  }
  for (int step = 0; step < 8; ++step) {
    const torch::Tensor touched = (torch::arange(rows) * (step + 1)) % 3 != 1;
    const torch::Tensor grad = gradient(step, rows, dim);
    ours.mutable_grad() = grad;
    adam.step(touched);
    for (int64_t r = 0; r < rows; ++r) {
      if (!touched[r].item<bool>()) continue;
      reference_rows[r].mutable_grad() = grad[r].clone();
      references[r]->step();
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    // Gathered rows run the kernels on other shapes than one row alone: last-bit differences.
    EXPECT_TRUE(torch::allclose(ours.detach()[r], reference_rows[r].detach(), 1e-6, 1e-7))
        << "row " << r << ": " << ours.detach()[r] << "\nexpected\n" << reference_rows[r];
  }
  EXPECT_TRUE(torch::equal(adam.state()[2].second, torch::tensor({8, 5, 5, 8, 5, 5})))
      << "per-row step counts " << adam.state()[2].second;
}

TEST(RowSparseAdagradTest, EveryRowTouchedIsTorchAdagradBitForBit) {
  for (double initial : {0.0, 0.1}) {
    const torch::Tensor ours = table();
    const torch::Tensor theirs = twin(ours);
    RowSparseAdagradOptions options;
    options.lr = 0.05;
    options.initial_accumulator_value = initial;
    RowSparseAdagrad adagrad(ours, options);
    torch::optim::Adagrad reference(
        {theirs}, torch::optim::AdagradOptions(0.05).lr_decay(0).initial_accumulator_value(initial).eps(1e-10));
    for (int step = 0; step < 5; ++step) {
      ours.mutable_grad() = gradient(step);
      theirs.mutable_grad() = gradient(step);
      adagrad.step(every_row());
      reference.step();
      ASSERT_TRUE(torch::equal(ours, theirs)) << "initial accumulator " << initial << ", step " << step
                                              << ": differ by up to " << largest_difference(ours, theirs);
    }
  }
}

// One step over every row (so the state is not all zeros), then one over every third row
// with a gradient on all rows: the others keep their values and state to the bit.
void expect_untouched_rows_kept(RowSparseOptimizer& optimizer) {
  const torch::Tensor& weight = optimizer.parameter();
  weight.mutable_grad() = gradient(0);
  optimizer.step(every_row());
  std::vector<std::pair<std::string, torch::Tensor>> before{{"weight", weight.detach().clone()}};
  for (const auto& [name, tensor] : optimizer.state()) before.emplace_back(name, tensor.clone());

  const torch::Tensor touched = torch::arange(kRows) % 3 == 0;
  const torch::Tensor untouched = ~touched;
  weight.mutable_grad() = gradient(1);
  optimizer.step(touched);

  std::vector<std::pair<std::string, torch::Tensor>> after{{"weight", weight.detach()}};
  for (const auto& entry : optimizer.state()) after.push_back(entry);
  for (size_t i = 0; i < after.size(); ++i) {
    const auto& [name, now] = after[i];
    const torch::Tensor& then = before[i].second;
    EXPECT_TRUE(torch::equal(now.index({untouched}), then.index({untouched}))) << name << " changed on untouched rows";
    EXPECT_TRUE((now.index({touched}) != then.index({touched})).reshape({touched.sum().item<int64_t>(), -1})
                    .any(1).all().item<bool>())
        << name << " did not change on every touched row";
  }
}

TEST(RowSparseAdamTest, UntouchedRowsAndTheirMomentsAreUnchanged) {
  RowSparseAdamOptions options;
  options.weight_decay = 0.1;
  RowSparseAdam adam(table(), options);
  expect_untouched_rows_kept(adam);
}

TEST(RowSparseAdagradTest, UntouchedRowsAndTheirSumsAreUnchanged) {
  RowSparseAdagrad adagrad(table(), RowSparseAdagradOptions{});
  expect_untouched_rows_kept(adagrad);
}

TEST(RowSparseOptimizerTest, NoRowTouchedChangesNothingButTheStepCount) {
  const torch::Tensor weight = table();
  const torch::Tensor before = weight.detach().clone();
  RowSparseAdam adam(weight, RowSparseAdamOptions{});
  adam.step(torch::zeros({kRows}, torch::kBool));  // no gradient needed either
  EXPECT_TRUE(torch::equal(weight, before));
  EXPECT_EQ(adam.step_count(), 1);
  EXPECT_TRUE(torch::equal(adam.state()[2].second, torch::zeros({kRows}, torch::kInt64)));
}

TEST(RowSparseOptimizerTest, MisuseFailsNamingTheOptimizer) {
  const torch::Tensor weight = table();
  RowSparseAdam adam(weight, RowSparseAdamOptions{});
  EXPECT_THROW(adam.step(every_row()), UserError);  // touched, but no gradient
  weight.mutable_grad() = gradient(0);
  EXPECT_THROW(adam.step(every_row(kRows + 1)), UserError);
  EXPECT_THROW(adam.step(torch::ones({kRows}, torch::kInt64)), UserError);
  EXPECT_THROW(adam.set_lr(-1), UserError);
  EXPECT_THROW(RowSparseAdam(torch::zeros({3}), RowSparseAdamOptions{}), UserError);
  RowSparseAdamOptions bad;
  bad.beta2 = 1;
  try {
    RowSparseAdam(table(), bad);
    ADD_FAILURE() << "beta2 = 1 accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("RowSparseAdam: betas"), std::string::npos) << e.what();
  }
}

// A checkpoint: the named state, copied into a fresh optimizer over the same values, with
// the step count, continues the run to the bit.
TEST(RowSparseOptimizerTest, StateNamesAreStableAndRestoringThemContinuesExactly) {
  RowSparseAdamOptions options;
  options.weight_decay = 0.01;
  const torch::Tensor original = table();
  RowSparseAdam adam(original, options);
  EXPECT_EQ(names(adam), (std::vector<std::string>{"exp_avg", "exp_avg_sq", "step"}));
  RowSparseAdagrad adagrad(table(), RowSparseAdagradOptions{});
  EXPECT_EQ(names(adagrad), (std::vector<std::string>{"sum"}));

  auto touched = [](int step) { return torch::arange(kRows) % (step + 2) == 0; };
  for (int step = 0; step < 3; ++step) {
    original.mutable_grad() = gradient(step);
    adam.step(touched(step));
  }
  const torch::Tensor restored = twin(original);
  RowSparseAdam resumed(restored, options);
  {
    torch::NoGradGuard no_grad;
    const auto saved = adam.state();
    const auto fresh = resumed.state();
    for (size_t i = 0; i < saved.size(); ++i) fresh[i].second.copy_(saved[i].second);
  }
  resumed.set_step_count(adam.step_count());
  for (int step = 3; step < 6; ++step) {
    original.mutable_grad() = gradient(step);
    restored.mutable_grad() = gradient(step);
    adam.step(touched(step));
    resumed.step(touched(step));
  }
  EXPECT_TRUE(torch::equal(original, restored)) << "differ by up to " << largest_difference(original, restored);
  EXPECT_EQ(resumed.step_count(), 6);
}

}  // namespace
}  // namespace seqrec::parallel
