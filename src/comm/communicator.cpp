#include "seqrec/comm/communicator.h"

#include <algorithm>

namespace seqrec::comm {

namespace {

bool agree(Communicator& comm, bool value, ReduceOp op) {
  const torch::Tensor flag = torch::full({1}, value ? 1 : 0, torch::dtype(torch::kInt32).device(comm.device()));
  comm.all_reduce(flag, op);
  return flag.item<int32_t>() != 0;
}

struct Done final : PendingCollective {
  void wait() override {}
};

}  // namespace

std::unique_ptr<PendingCollective> Communicator::start_all_reduce(const torch::Tensor& tensor, ReduceOp op) {
  all_reduce(tensor, op);
  return std::make_unique<Done>();
}

bool Communicator::any(bool value) { return agree(*this, value, ReduceOp::Max); }

bool Communicator::all(bool value) { return agree(*this, value, ReduceOp::Min); }

std::vector<double> Communicator::all_reduce_values(std::vector<double> values, ReduceOp op) {
  if (values.empty()) return values;
  const torch::Tensor staged = torch::tensor(values, torch::kFloat64).to(device());
  all_reduce(staged, op);
  const torch::Tensor host = staged.to(torch::kCPU);
  std::copy(host.data_ptr<double>(), host.data_ptr<double>() + host.numel(), values.begin());
  return values;
}

}  // namespace seqrec::comm
