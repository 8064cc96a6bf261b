// Checks and shapes of the tensors handed to a collective, shared by the back ends.
// Misuse throws std::invalid_argument naming the operation, before any message is sent,
// so every rank fails alike and none is left waiting.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include <torch/torch.h>

#include "seqrec/core/error.h"

namespace seqrec::comm {

template <typename... Parts>
void require(bool condition, const char* operation, const Parts&... why) {
  if (!condition) throw std::invalid_argument(str_cat(operation, ": ", why...));
}

inline void require_rows(const torch::Tensor& tensor, const char* operation) {
  require(tensor.dim() >= 1, operation, "needs a tensor of at least one dimension, got a scalar");
}

// From the trailing sizes rather than numel() / size(0), so that zero rows work.
inline int64_t row_elements(const torch::Tensor& tensor) {
  int64_t elements = 1;
  for (int64_t d = 1; d < tensor.dim(); ++d) elements *= tensor.size(d);
  return elements;
}

// The tensor's sizes with `rows` rows.
inline std::vector<int64_t> with_rows(const torch::Tensor& tensor, int64_t rows) {
  std::vector<int64_t> sizes = tensor.sizes().vec();
  sizes[0] = rows;
  return sizes;
}

}  // namespace seqrec::comm
