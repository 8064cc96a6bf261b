#include "seqrec/parallel/global_grad_norm.h"

#include <cmath>

namespace seqrec::parallel {

namespace {

// Sum of squares of the defined gradients, in float64, in list order; one device sync.
double sum_of_squares(const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard no_grad;
  torch::Tensor sum;
  for (const torch::Tensor& parameter : parameters) {
    const torch::Tensor& grad = parameter.grad();
    if (!grad.defined()) continue;
    const torch::Tensor squares = grad.to(torch::kFloat64).square().sum();
    sum = sum.defined() ? sum + squares : squares;
  }
  return sum.defined() ? sum.item<double>() : 0.0;
}

// The sum over ranks, added in rank order: an all-reduce may add in a different order on
// different ranks and give them different bits.
double sum_over_ranks(double value, comm::Communicator& comm) {
  if (comm.size() == 1) return value;
  const torch::Tensor mine = torch::full({1}, value, torch::TensorOptions().dtype(torch::kFloat64).device(comm.device()));
  const torch::Tensor all = comm.all_gather(mine).cpu();
  const auto values = all.accessor<double, 1>();
  double sum = 0;
  for (int64_t r = 0; r < values.size(0); ++r) sum += values[r];
  return sum;
}

}  // namespace

double global_grad_norm(const std::vector<torch::Tensor>& replicated, const std::vector<torch::Tensor>& sharded,
                        comm::Communicator& comm) {
  return std::sqrt(sum_of_squares(replicated) + sum_over_ranks(sum_of_squares(sharded), comm));
}

double clip_grad_norm(const std::vector<torch::Tensor>& replicated, const std::vector<torch::Tensor>& sharded,
                      double max_norm, comm::Communicator& comm) {
  const double norm = global_grad_norm(replicated, sharded, comm);
  const double coefficient = max_norm / (norm + 1e-6);
  if (coefficient < 1) {
    torch::NoGradGuard no_grad;
    for (const auto* parameters : {&replicated, &sharded}) {
      for (const torch::Tensor& parameter : *parameters) {
        if (parameter.grad().defined()) parameter.grad().mul_(coefficient);
      }
    }
  }
  return norm;
}

}  // namespace seqrec::parallel
