// What the backward passes of a sharded table reach besides tensors: its ranks and its
// record of touched rows. Backward sees only an AutogradContext, whose saved_data holds
// IValues, so the link is a registered TorchScript custom class.
#pragma once

#include <torch/custom_class.h>
#include <torch/torch.h>

#include <cstdint>
#include <memory>

#include "seqrec/comm/communicator.h"

namespace seqrec::parallel::detail {

struct ShardLink : torch::CustomClassHolder {
  ShardLink(std::shared_ptr<comm::Communicator> comm, int64_t rows, torch::Tensor touched)
      : comm(std::move(comm)), rows(rows), touched(std::move(touched)) {}

  std::shared_ptr<comm::Communicator> comm;
  int64_t rows;           // of the whole table
  torch::Tensor touched;  // bool [local_rows], shared with the table and marked in place
};

c10::intrusive_ptr<ShardLink> make_shard_link(std::shared_ptr<comm::Communicator> comm, int64_t rows,
                                              torch::Tensor touched);

inline void save_link(torch::autograd::AutogradContext* ctx, c10::intrusive_ptr<ShardLink> link) {
  ctx->saved_data["link"] = std::move(link);
}

inline c10::intrusive_ptr<ShardLink> saved_link(torch::autograd::AutogradContext* ctx) {
  return ctx->saved_data["link"].toCustomClass<ShardLink>();
}

}  // namespace seqrec::parallel::detail
