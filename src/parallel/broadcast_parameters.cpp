#include "seqrec/parallel/broadcast_parameters.h"

namespace seqrec::parallel {

void broadcast_parameters(const std::vector<torch::Tensor>& parameters, comm::Communicator& comm, int root) {
  if (comm.size() == 1) return;
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& parameter : parameters) {
    // The communicator writes whole contiguous tensors; a strided one goes through a copy.
    const torch::Tensor values = parameter.detach();
    if (values.is_contiguous()) {
      comm.broadcast(values, root);
    } else {
      const torch::Tensor staged = values.contiguous();
      comm.broadcast(staged, root);
      values.copy_(staged);
    }
  }
}

}  // namespace seqrec::parallel
