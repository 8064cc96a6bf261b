#include <limits>

#include "seqrec/core/autocast.h"
#include "seqrec/core/error.h"
#include "vocab_parallel.h"

namespace seqrec::parallel::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// a @ b computed in `compute`, returned in float32 (the dtype of every sum here).
torch::Tensor product(const torch::Tensor& a, const torch::Tensor& b, torch::ScalarType compute) {
  if (a.scalar_type() == compute && b.scalar_type() == compute) return a.matmul(b);
  return a.to(compute).matmul(b.to(compute)).to(torch::kFloat32);
}

// Logits are recomputed block by block in backward rather than kept, so memory stays
// bounded by the blocks however many positions and classes there are.
//
// Under bf16 autocast the three products (logits, and the two gradients) run in bfloat16
// with float32 results, forward and backward alike: backward runs outside autocast, and
// logits recomputed there in float32 would not match the log-sum-exp forward took from
// bfloat16 ones (their softmax would not sum to one). Sums and exponentials stay float32.
class VocabParallelCrossEntropy : public torch::autograd::Function<VocabParallelCrossEntropy> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& hidden, const torch::Tensor& shard,
                               const torch::Tensor& labels, int64_t first, double label_smoothing,
                               const c10::intrusive_ptr<ShardLink>& link) {
    comm::Communicator& comm = *link->comm;
    const Positions all = positions(comm.rank(), all_sizes(comm, {hidden.size(0)})[0]);
    const torch::Tensor h = gather_rows(comm, hidden.contiguous(), all);
    const torch::Tensor y = gather_rows(comm, labels.to(shard.device(), torch::kLong).contiguous(), all);
    // Every rank sees every label, so all of them refuse a bad one alike.
    if (all.total > 0 && (y.min().item<int64_t>() < first || y.max().item<int64_t>() >= link->rows)) {
      fail("cross-entropy: labels outside the classes [", first, ", ", link->rows, ")");
    }
    const LocalClasses classes = local_classes(shard, first, comm.rank(), comm.size());
    const torch::ScalarType compute = autocast_dtype(h.device()).value_or(h.scalar_type());

    // Per position, over this rank's classes: log-sum-exp, the target's logit (where this
    // rank owns the target, else 0) and the sum of logits.
    torch::Tensor lse = torch::full({all.total}, -std::numeric_limits<float>::infinity(), h.options());
    torch::Tensor target = torch::zeros({all.total}, h.options());
    torch::Tensor logit_sum = torch::zeros({all.total}, h.options());
    for_each_block(all.total, classes.count(), [&](const Block& b) {
      const torch::Tensor logits = product(h.slice(0, b.p0, b.p1), classes.weight.slice(0, b.c0, b.c1).t(), compute);
      torch::Tensor block_lse = lse.slice(0, b.p0, b.p1);
      block_lse.copy_(torch::logaddexp(block_lse, logits.logsumexp(1)));
      const auto [inside, column] = classes.find(y.slice(0, b.p0, b.p1), b.c0, b.c1);
      target.slice(0, b.p0, b.p1)
          .add_(logits.gather(1, column.unsqueeze(1)).squeeze(1).masked_fill(inside.logical_not(), 0));
      logit_sum.slice(0, b.p0, b.p1).add_(logits.sum(1));
    });

    // A rank without classes has lse -inf, which exp turns into nothing.
    const torch::Tensor top = lse.clone();
    comm.all_reduce(top, comm::ReduceOp::Max);
    const torch::Tensor sums = torch::stack({(lse - top).exp(), target, logit_sum}, 1).contiguous();
    comm.all_reduce(sums, comm::ReduceOp::Sum);
    const torch::Tensor global_lse = top + sums.select(1, 0).log();
    const int64_t class_count = link->rows - first;
    const torch::Tensor loss = (1 - label_smoothing) * (global_lse - sums.select(1, 1)) +
                               label_smoothing * (global_lse - sums.select(1, 2) / class_count);

    ctx->save_for_backward({shard});
    ctx->saved_data["h"] = h;
    ctx->saved_data["y"] = y;
    ctx->saved_data["lse"] = global_lse;
    ctx->saved_data["counts"] = all.counts;
    ctx->saved_data["first"] = first;
    ctx->saved_data["label_smoothing"] = label_smoothing;
    ctx->saved_data["compute"] = static_cast<int64_t>(compute);
    save_link(ctx, link);
    return loss.slice(0, all.offset, all.offset + hidden.size(0)).sum();
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const c10::intrusive_ptr<ShardLink> link = saved_link(ctx);
    comm::Communicator& comm = *link->comm;
    const torch::Tensor shard = ctx->get_saved_variables()[0];
    const torch::Tensor h = ctx->saved_data["h"].toTensor();
    const torch::Tensor y = ctx->saved_data["y"].toTensor();
    const torch::Tensor lse = ctx->saved_data["lse"].toTensor();
    const Positions all = positions(comm.rank(), ctx->saved_data["counts"].toIntVector());
    const int64_t first = ctx->saved_data["first"].toInt();
    const double label_smoothing = ctx->saved_data["label_smoothing"].toDouble();
    const auto compute = static_cast<torch::ScalarType>(ctx->saved_data["compute"].toInt());
    const double class_count = static_cast<double>(link->rows - first);
    const LocalClasses classes = local_classes(shard, first, comm.rank(), comm.size());

    // Each rank's loss was scaled by its own upstream gradient; its positions carry it.
    const torch::Tensor scales = comm.all_gather(grad_outputs[0].reshape({1}).to(h.dtype()).contiguous());
    const torch::Tensor weight =
        scales.repeat_interleave(torch::tensor(all.counts, torch::kLong).to(scales.device()), 0);

    const torch::Tensor grad_h = torch::zeros_like(h);
    const torch::Tensor grad_shard = torch::zeros_like(shard);
    const torch::Tensor grad_classes = grad_shard.slice(0, classes.begin);
    for_each_block(all.total, classes.count(), [&](const Block& b) {
      const torch::Tensor h_b = h.slice(0, b.p0, b.p1);
      const torch::Tensor w_b = classes.weight.slice(0, b.c0, b.c1);
      // d loss / d logit = softmax - (1 - eps) * onehot(target) - eps / C.
      const torch::Tensor grad_logits = (product(h_b, w_b.t(), compute) - lse.slice(0, b.p0, b.p1).unsqueeze(1))
                                            .exp_()
                                            .sub_(label_smoothing / class_count);
      const auto [inside, column] = classes.find(y.slice(0, b.p0, b.p1), b.c0, b.c1);
      grad_logits.scatter_add_(1, column.unsqueeze(1),
                               inside.unsqueeze(1).to(grad_logits.dtype()) * -(1 - label_smoothing));
      grad_logits.mul_(weight.slice(0, b.p0, b.p1).unsqueeze(1));
      grad_h.slice(0, b.p0, b.p1).add_(product(grad_logits, w_b, compute));
      grad_classes.slice(0, b.c0, b.c1).add_(product(grad_logits.t(), h_b, compute));
    });
    // Every rank scored every position against its own classes: the hidden gradient is
    // the sum over ranks, of which this rank keeps its own positions.
    comm.all_reduce(grad_h, comm::ReduceOp::Sum);
    link->touched.slice(0, classes.begin).fill_(true);
    const int64_t own = all.own(comm.rank());
    return {grad_h.slice(0, all.offset, all.offset + own),
            grad_shard,
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor vocab_parallel_cross_entropy(const torch::Tensor& shard, const torch::Tensor& hidden,
                                           const torch::Tensor& labels, int64_t first, double label_smoothing,
                                           const c10::intrusive_ptr<ShardLink>& link) {
  if (first < 0 || first >= link->rows) fail("cross-entropy: no classes in [", first, ", ", link->rows, ")");
  return VocabParallelCrossEntropy::apply(hidden, shard, labels, first, label_smoothing, link);
}

}  // namespace seqrec::parallel::detail
