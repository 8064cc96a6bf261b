#include "shard_link.h"

namespace seqrec::parallel::detail {

c10::intrusive_ptr<ShardLink> make_shard_link(std::shared_ptr<comm::Communicator> comm, int64_t rows,
                                              torch::Tensor touched) {
  // Registered on first use rather than by a static initializer, which the linker may
  // drop from a static library.
  static const auto registration = torch::class_<ShardLink>("seqrec", "ShardLink");
  (void)registration;
  return c10::make_intrusive<ShardLink>(std::move(comm), rows, std::move(touched));
}

}  // namespace seqrec::parallel::detail
