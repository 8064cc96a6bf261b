#include "seqrec/parallel/gradient_buckets.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "seqrec/core/error.h"

namespace seqrec::parallel {

namespace {

struct Placement {
  torch::Tensor parameter;
  int64_t offset = 0;  // elements into the bucket
};

struct Layout {
  torch::Dtype dtype;
  int64_t elements = 0;
  std::vector<Placement> placements;
};

// The bucket's slice for one parameter, shaped like it. detach() makes it a plain tensor
// over the bucket's memory rather than an autograd view: optimizers' zero_grad() calls
// detach_() on gradients, which autograd refuses on views.
torch::Tensor slice_for(const torch::Tensor& buffer, const Placement& placement) {
  return buffer.narrow(0, placement.offset, placement.parameter.numel()).view(placement.parameter.sizes()).detach();
}

}  // namespace

GradientBuckets::GradientBuckets(const std::vector<torch::Tensor>& parameters,
                                 std::shared_ptr<comm::Communicator> comm, int64_t bucket_bytes)
    : comm_(std::move(comm)) {
  if (!comm_) fail("GradientBuckets: no communicator");
  if (bucket_bytes < 1) fail("GradientBuckets: bucket size must be positive, got ", bucket_bytes, " bytes");

  // One open bucket per dtype, as a flat buffer has one; closed ones keep their order.
  std::vector<Layout> closed;
  std::vector<Layout> open;
  std::unordered_set<const void*> seen;
  for (size_t i = parameters.size(); i-- > 0;) {
    const torch::Tensor& parameter = parameters[i];
    if (!parameter.defined()) fail("GradientBuckets: parameter ", i, " is undefined");
    if (!parameter.requires_grad()) continue;
    if (!seen.insert(parameter.unsafeGetTensorImpl()).second) fail("GradientBuckets: parameter ", i, " is listed twice");
    if (parameter.device() != comm_->device()) {
      fail("GradientBuckets: parameter ", i, " is on ", parameter.device(), ", the communicator on ",
           comm_->device());
    }
    auto layout = std::find_if(open.begin(), open.end(),
                               [&](const Layout& l) { return l.dtype == parameter.scalar_type(); });
    if (layout == open.end()) layout = open.insert(open.end(), Layout{parameter.scalar_type(), 0, {}});
    layout->placements.push_back({parameter, layout->elements});
    layout->elements += parameter.numel();
    if (layout->elements * static_cast<int64_t>(parameter.element_size()) >= bucket_bytes) {
      closed.push_back(std::move(*layout));
      open.erase(layout);
    }
  }
  for (Layout& layout : open) closed.push_back(std::move(layout));

  torch::NoGradGuard no_grad;
  for (const Layout& layout : closed) {
    Bucket bucket;
    bucket.buffer = torch::zeros({layout.elements}, torch::TensorOptions().dtype(layout.dtype).device(comm_->device()));
    for (const Placement& placement : layout.placements) {
      Slot slot{placement.parameter, slice_for(bucket.buffer, placement)};
      // Whatever gradient the parameter had is kept, now inside the bucket.
      if (slot.parameter.grad().defined()) slot.grad.copy_(slot.parameter.grad());
      slot.parameter.mutable_grad() = slot.grad;
      bucket.slots.push_back(std::move(slot));
    }
    buckets_.push_back(std::move(bucket));
  }
}

void GradientBuckets::all_reduce() {
  if (comm_->size() == 1) return;
  for (Bucket& bucket : buckets_) reduce_bucket(bucket);
}

void GradientBuckets::reduce_bucket(Bucket& bucket) {
  torch::NoGradGuard no_grad;
  for (Slot& slot : bucket.slots) {
    const torch::Tensor& grad = slot.parameter.grad();
    if (grad.defined() && grad.data_ptr() == slot.grad.data_ptr()) continue;
    if (grad.defined()) {
      slot.grad.copy_(grad);
    } else {
      slot.grad.zero_();
    }
    slot.parameter.mutable_grad() = slot.grad;
  }
  comm_->all_reduce(bucket.buffer, comm::ReduceOp::Sum);
}

void GradientBuckets::zero() {
  torch::NoGradGuard no_grad;
  for (Bucket& bucket : buckets_) {
    bucket.buffer.zero_();
    for (Slot& slot : bucket.slots) slot.parameter.mutable_grad() = slot.grad;
  }
}

}  // namespace seqrec::parallel
