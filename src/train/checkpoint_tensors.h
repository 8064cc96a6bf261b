// Tensors in checkpoint HDF5 files: a 2-D tensor as a [rows, width] dataset, anything
// else flattened to 1-D (its shape recorded by the caller where it matters). float32,
// float64 and int64 are stored as such; uint8 (generator states) widened to int64.
#pragma once

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "seqrec/data/hdf5_file.h"

namespace seqrec::train::detail {

// Creates the groups of `path` ("a/b/c" -> a, a/b) that do not exist yet.
void create_parent_groups(h5::File& file, const std::string& path);
void write_tensor(h5::File& file, const std::string& path, const torch::Tensor& tensor);
// Rows [begin, end) of a dataset as a tensor of `dtype`: [n, width] for a 2-D dataset,
// [n] for a 1-D one.
torch::Tensor read_tensor_rows(const h5::File& file, const std::string& path, torch::ScalarType dtype,
                               int64_t begin, int64_t end);
torch::Tensor read_tensor(const h5::File& file, const std::string& path, torch::ScalarType dtype);

}  // namespace seqrec::train::detail
