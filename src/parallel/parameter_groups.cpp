#include "seqrec/parallel/parameter_groups.h"

#include <unordered_set>

namespace seqrec::parallel {

ParameterGroups parameter_groups(torch::nn::Module& model) {
  ParameterGroups groups;
  std::unordered_set<const void*> sharded_rows;
  for (const auto& module : model.modules()) {
    if (auto table = std::dynamic_pointer_cast<ShardedEmbeddingTableImpl>(module)) {
      sharded_rows.insert(table->shard().unsafeGetTensorImpl());
      groups.sharded.push_back(std::move(table));
    }
  }
  for (const torch::Tensor& p : model.parameters()) {
    if (!sharded_rows.count(p.unsafeGetTensorImpl())) groups.replicated.push_back(p);
  }
  return groups;
}

}  // namespace seqrec::parallel
