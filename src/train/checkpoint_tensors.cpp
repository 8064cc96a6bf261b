#include "checkpoint_tensors.h"

#include <algorithm>
#include <vector>

#include "seqrec/core/error.h"

namespace seqrec::train::detail {

namespace {

// About a megabyte per chunk: big enough for fast I/O, small enough that reading a few
// rows does not decompress much. No compression: checkpoints are written in the step's
// shadow and read once; Fletcher32 still guards every chunk.
h5::ChunkedLayout layout_for(int64_t rows, int64_t width, int64_t element_bytes) {
  h5::ChunkedLayout layout;
  layout.compression_level = 0;
  layout.chunk_rows = std::clamp<int64_t>((1 << 20) / std::max<int64_t>(1, width * element_bytes), 1,
                                          std::max<int64_t>(1, rows));
  return layout;
}

template <typename T>
void write_as(h5::File& file, const std::string& path, const torch::Tensor& flat, int64_t rows, int64_t width) {
  file.create_dataset<T>(path, width, layout_for(rows, width, sizeof(T)));
  const T* data = flat.data_ptr<T>();
  file.append<T>(path, std::vector<T>(data, data + flat.numel()), width);
}

template <typename T>
torch::Tensor read_as(const h5::File& file, const std::string& path, torch::ScalarType stored, int64_t begin,
                      int64_t end) {
  const std::vector<int64_t> shape = file.shape(path);
  std::vector<int64_t> sizes = {end - begin};
  if (shape.size() == 2) sizes.push_back(shape[1]);
  if (end == begin) return torch::empty(sizes, stored);
  std::vector<T> values = file.read_rows<T>(path, begin, end);
  return torch::from_blob(values.data(), sizes, stored).clone();
}

}  // namespace

void create_parent_groups(h5::File& file, const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string group = path.substr(0, slash);
    if (!file.exists(group)) file.create_group(group);
  }
}

void write_tensor(h5::File& file, const std::string& path, const torch::Tensor& tensor) {
  create_parent_groups(file, path);
  torch::Tensor flat = tensor.detach().cpu().contiguous();
  const int64_t width = flat.dim() == 2 ? flat.size(1) : 1;
  const int64_t rows = flat.dim() == 2 ? flat.size(0) : flat.numel();
  flat = flat.reshape({-1});
  switch (flat.scalar_type()) {
    case torch::kFloat: return write_as<float>(file, path, flat, rows, width);
    case torch::kDouble: return write_as<double>(file, path, flat, rows, width);
    case torch::kLong: return write_as<int64_t>(file, path, flat, rows, width);
    case torch::kByte: return write_as<int64_t>(file, path, flat.to(torch::kLong), rows, width);
    default: fail("checkpoint '", file.path(), "': cannot store '", path, "' of dtype ", flat.scalar_type());
  }
}

torch::Tensor read_tensor_rows(const h5::File& file, const std::string& path, torch::ScalarType dtype, int64_t begin,
                               int64_t end) {
  switch (dtype) {
    case torch::kFloat: return read_as<float>(file, path, dtype, begin, end);
    case torch::kDouble: return read_as<double>(file, path, dtype, begin, end);
    case torch::kLong: return read_as<int64_t>(file, path, dtype, begin, end);
    case torch::kByte: return read_as<int64_t>(file, path, torch::kLong, begin, end).to(torch::kByte);
    default: fail("checkpoint '", file.path(), "': cannot read '", path, "' as dtype ", dtype);
  }
}

torch::Tensor read_tensor(const h5::File& file, const std::string& path, torch::ScalarType dtype) {
  return read_tensor_rows(file, path, dtype, 0, file.shape(path).at(0));
}

}  // namespace seqrec::train::detail
