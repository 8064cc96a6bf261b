#include "sharded_lookup.h"

#include <vector>

#include "seqrec/core/error.h"
#include "seqrec/data/schema.h"

namespace seqrec::parallel::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::vector<int64_t> to_vector(const torch::Tensor& counts) {
  const torch::Tensor cpu = counts.to(torch::kCPU, torch::kLong).contiguous();
  return {cpu.data_ptr<int64_t>(), cpu.data_ptr<int64_t>() + cpu.numel()};
}

// Requests travel as the distinct ids of the batch, grouped by owner; replies come back
// in the same order.
class ShardedLookup : public torch::autograd::Function<ShardedLookup> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& shard, const torch::Tensor& ids,
                               const c10::intrusive_ptr<ShardLink>& link) {
    comm::Communicator& comm = *link->comm;
    const int ranks = comm.size();
    const torch::Tensor flat = ids.reshape({-1}).to(shard.device(), torch::kLong);
    const bool valid =
        flat.numel() == 0 || (flat.min().item<int64_t>() >= 0 && flat.max().item<int64_t>() < link->rows);

    const auto [unique, inverse] = torch::_unique(flat, /*sorted=*/true, /*return_inverse=*/true);
    const torch::Tensor owners = unique.remainder(ranks);
    const torch::Tensor order = std::get<1>(owners.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
    torch::Tensor requests = unique.index_select(0, order);
    std::vector<int64_t> request_counts = to_vector(owners.bincount({}, ranks));
    if (!valid) {
      // A bad id must not leave the other ranks waiting for the replies: every rank gets
      // a -1 in place of requests, and all of them throw before the second exchange.
      requests = torch::full({ranks}, -1, flat.options());
      request_counts.assign(ranks, 1);
    }
    const comm::AllToAllResult received = comm.all_to_all(requests, request_counts);
    if (!valid) fail("embedding table lookup: ids outside [0, ", link->rows, ") on rank ", comm.rank());
    if (received.tensor.numel() > 0 && received.tensor.min().item<int64_t>() < 0) {
      fail("embedding table lookup: another rank passed ids outside [0, ", link->rows, ")");
    }

    const torch::Tensor local = torch::div(received.tensor, ranks, "floor");
    const torch::Tensor padding = (received.tensor == kPaddingId).unsqueeze(1);
    const torch::Tensor replies = shard.index_select(0, local).masked_fill(padding, 0);
    const torch::Tensor rows = comm.all_to_all(replies, received.counts).tensor;
    const torch::Tensor by_unique = torch::empty_like(rows).index_copy_(0, order, rows);

    ctx->saved_data["inverse"] = inverse;
    ctx->saved_data["order"] = order;
    ctx->saved_data["request_counts"] = request_counts;
    ctx->saved_data["local"] = local;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["local_rows"] = shard.size(0);
    save_link(ctx, link);

    std::vector<int64_t> sizes = ids.sizes().vec();
    sizes.push_back(shard.size(1));
    return by_unique.index_select(0, inverse).view(sizes);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const c10::intrusive_ptr<ShardLink> link = saved_link(ctx);
    const torch::Tensor inverse = ctx->saved_data["inverse"].toTensor();
    const torch::Tensor local = ctx->saved_data["local"].toTensor();
    const torch::Tensor padding = ctx->saved_data["padding"].toTensor();
    const int64_t local_rows = ctx->saved_data["local_rows"].toInt();
    const torch::Tensor& grad = grad_outputs[0];
    const torch::Tensor order = ctx->saved_data["order"].toTensor();
    const int64_t dim = grad.size(-1);

    // Summed per distinct id here, so each id's gradient crosses the network once; it
    // goes as the request went, and the owner receives it in the order it received ids.
    const torch::Tensor per_unique =
        grad.new_zeros({order.numel(), dim}).index_add_(0, inverse, grad.reshape({-1, dim}));
    const torch::Tensor sent = per_unique.index_select(0, order);
    const torch::Tensor received =
        link->comm->all_to_all(sent, ctx->saved_data["request_counts"].toIntVector()).tensor.masked_fill(padding, 0);
    const torch::Tensor grad_shard = grad.new_zeros({local_rows, dim}).index_add_(0, local, received);
    link->touched.index_fill_(0, local.masked_select(padding.squeeze(1).logical_not()), true);
    return {grad_shard, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor sharded_lookup(const torch::Tensor& shard, const torch::Tensor& ids,
                             const c10::intrusive_ptr<ShardLink>& link) {
  return ShardedLookup::apply(shard, ids, link);
}

}  // namespace seqrec::parallel::detail
