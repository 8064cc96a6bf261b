#include "seqrec/parallel/global_grad_norm.h"

#include <cmath>

namespace seqrec::parallel {

namespace {

// Sum of squares of one CPU tensor in float64, in one pass and without temporaries: the
// float64 copy and its square cost 5% of a small SASRec's traced step, nearly all of it
// on the item table's gradient. Eight partial sums in a fixed order: the same bits on
// every run and at every thread count.
template <typename T>
double host_sum_of_squares(const T* values, int64_t n) {
  constexpr int64_t kLanes = 8;
  double partial[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int64_t lane = 0; lane < kLanes; ++lane) {
      const double v = values[i + lane];
      partial[lane] += v * v;
    }
  }
  for (; i < n; ++i) partial[i % kLanes] += static_cast<double>(values[i]) * values[i];
  double sum = 0;
  for (const double p : partial) sum += p;
  return sum;
}

// Sum of squares of the defined gradients, in float64; at most one device sync.
double sum_of_squares(const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard no_grad;
  double host_sum = 0;
  torch::Tensor device_sum;
  for (const torch::Tensor& parameter : parameters) {
    const torch::Tensor& grad = parameter.grad();
    if (!grad.defined()) continue;
    const bool single = grad.scalar_type() == torch::kFloat;
    if (grad.is_cpu() && (single || grad.scalar_type() == torch::kDouble)) {
      const torch::Tensor g = grad.contiguous();
      host_sum += single ? host_sum_of_squares(g.data_ptr<float>(), g.numel())
                         : host_sum_of_squares(g.data_ptr<double>(), g.numel());
    } else {
      const torch::Tensor squares = grad.to(torch::kFloat64).square().sum();
      device_sum = device_sum.defined() ? device_sum + squares : squares;
    }
  }
  return device_sum.defined() ? host_sum + device_sum.item<double>() : host_sum;
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
