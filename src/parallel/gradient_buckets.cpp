#include "seqrec/parallel/gradient_buckets.h"

#include <algorithm>
#include <functional>
#include <unordered_set>
#include <utility>

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

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

// Runs after the accumulator has added this backward's gradient into .grad().
class GradientReadyHook final : public torch::autograd::FunctionPostHook {
 public:
  explicit GradientReadyHook(std::function<void()> ready) : ready_(std::move(ready)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    ready_();
    return outputs;
  }

 private:
  std::function<void()> ready_;
};

}  // namespace

GradientBuckets::GradientBuckets(const std::vector<torch::Tensor>& parameters,
                                 std::shared_ptr<comm::Communicator> comm, int64_t bucket_bytes, bool overlap)
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
  rearm();
  if (overlap && comm_->size() > 1) add_hooks();
}

GradientBuckets::~GradientBuckets() {
  for (const Hook& hook : hooks_) hook.accumulator->del_post_hook(hook.key);
  for (Bucket& bucket : buckets_) bucket.reduction.reset();  // waits for what is in flight
}

void GradientBuckets::add_hooks() {
  for (size_t b = 0; b < buckets_.size(); ++b) {
    for (const Slot& slot : buckets_[b].slots) {
      std::shared_ptr<torch::autograd::Node> accumulator = torch::autograd::impl::grad_accumulator(slot.parameter);
      const uintptr_t key =
          accumulator->add_post_hook(std::make_unique<GradientReadyHook>([this, b] { gradient_ready(b); }));
      hooks_.push_back({std::move(accumulator), key});
    }
  }
}

void GradientBuckets::gradient_ready(size_t bucket) {
  if (buckets_[bucket].waiting > 0) --buckets_[bucket].waiting;
  while (next_to_start_ < buckets_.size() && buckets_[next_to_start_].waiting == 0) {
    start(buckets_[next_to_start_++]);
    ++started_during_backward_;
  }
}

void GradientBuckets::all_reduce() {
  if (comm_->size() == 1) return rearm();
  while (next_to_start_ < buckets_.size()) start(buckets_[next_to_start_++]);
  finish_all();
  rearm();
}

void GradientBuckets::start(Bucket& bucket) {
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
  bucket.reduction = comm_->start_all_reduce(bucket.buffer, comm::ReduceOp::Sum);
}

void GradientBuckets::finish_all() {
  for (Bucket& bucket : buckets_) {
    if (bucket.reduction) bucket.reduction->wait();
    bucket.reduction.reset();
  }
}

// Ready for the next backward: every bucket waits for all its gradients again.
void GradientBuckets::rearm() {
  for (Bucket& bucket : buckets_) bucket.waiting = bucket.slots.size();
  next_to_start_ = 0;
  started_during_backward_ = 0;
}

void GradientBuckets::zero() {
  finish_all();  // a reduction still in flight would write into the zeroed buffers
  rearm();
  torch::NoGradGuard no_grad;
  for (Bucket& bucket : buckets_) {
    bucket.buffer.zero_();
    for (Slot& slot : bucket.slots) slot.parameter.mutable_grad() = slot.grad;
  }
}

}  // namespace seqrec::parallel
