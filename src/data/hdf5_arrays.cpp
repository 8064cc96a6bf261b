#include "seqrec/data/hdf5_arrays.h"

#include <algorithm>

#include "seqrec/core/error.h"

namespace seqrec::h5 {

namespace {

// Elements per chunk: about a megabyte of float32, whole rows.
constexpr int64_t kChunkElements = 1 << 18;

Handle open_dataset(const File& file, const std::string& name) {
  hid_t id = H5Dopen2(file.id(), name.c_str(), H5P_DEFAULT);
  if (id < 0) fail("'", file.path(), "': missing dataset '", name, "'");
  return Handle(id, H5Dclose);
}

Handle simple_space(const std::vector<int64_t>& shape) {
  if (shape.empty()) return Handle(H5Screate(H5S_SCALAR), H5Sclose);
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
}

int64_t elements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Handle utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

}  // namespace

template <typename T>
void write_array(File& file, const std::string& name, const std::vector<int64_t>& shape, const T* data) {
  Handle space = simple_space(shape);
  Handle props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(props.get(), false);
  const int64_t total = elements(shape);
  // Chunks (and so checksums) need a non-empty array of rank >= 1.
  if (!shape.empty() && total > 0) {
    std::vector<hsize_t> chunk(shape.begin(), shape.end());
    const int64_t row = total / shape[0];
    chunk[0] = static_cast<hsize_t>(std::clamp<int64_t>(kChunkElements / std::max<int64_t>(1, row), 1, shape[0]));
    H5Pset_chunk(props.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_fletcher32(props.get());
  }
  Handle dataset(H5Dcreate2(file.id(), name.c_str(), native_type<T>(), space.get(), H5P_DEFAULT, props.get(),
                            H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid()) fail("'", file.path(), "': cannot create dataset '", name, "'");
  if (total > 0 && H5Dwrite(dataset.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    fail("'", file.path(), "': cannot write dataset '", name, "' (disk full?)");
  }
}

std::vector<int64_t> array_shape(const File& file, const std::string& name) {
  Handle dataset = open_dataset(file, name);
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail("'", file.path(), "': cannot read the shape of dataset '", name, "'");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

template <typename T>
std::vector<T> read_array(const File& file, const std::string& name) {
  Handle dataset = open_dataset(file, name);
  std::vector<T> values(static_cast<size_t>(elements(array_shape(file, name))));
  if (!values.empty() &&
      H5Dread(dataset.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    fail("'", file.path(), "': cannot read dataset '", name, "' (corrupt: checksum mismatch or truncated file)");
  }
  return values;
}

template <typename T>
std::vector<T> read_strided_rows(const File& file, const std::string& name, int64_t first, int64_t stride,
                                 int64_t count) {
  Handle dataset = open_dataset(file, name);
  const std::vector<int64_t> shape = array_shape(file, name);
  if (shape.empty() || count < 0 || stride < 1 || (count > 0 && (first < 0 || first + (count - 1) * stride >= shape[0]))) {
    fail("'", file.path(), "': dataset '", name, "' lacks rows ", first, " + ", stride, " k for k < ", count);
  }
  std::vector<int64_t> memory_shape = shape;
  memory_shape[0] = count;
  std::vector<T> values(static_cast<size_t>(elements(memory_shape)));
  if (values.empty()) return values;
  Handle file_space(H5Dget_space(dataset.get()), H5Sclose);
  std::vector<hsize_t> start(shape.size(), 0), step(shape.size(), 1), counts(shape.size(), 1);
  std::vector<hsize_t> block(shape.begin(), shape.end());
  start[0] = static_cast<hsize_t>(first);
  step[0] = static_cast<hsize_t>(stride);
  counts[0] = static_cast<hsize_t>(count);
  block[0] = 1;
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), step.data(), counts.data(), block.data());
  Handle memory_space = simple_space(memory_shape);
  if (H5Dread(dataset.get(), native_type<T>(), memory_space.get(), file_space.get(), H5P_DEFAULT, values.data()) <
      0) {
    fail("'", file.path(), "': cannot read dataset '", name, "' (corrupt: checksum mismatch or truncated file)");
  }
  return values;
}

void write_strings(File& file, const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const std::string& v : values) pointers.push_back(v.c_str());
  Handle type = utf8_string_type();
  Handle space = simple_space({static_cast<int64_t>(values.size())});
  Handle props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(props.get(), false);
  Handle dataset(H5Dcreate2(file.id(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, props.get(), H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid()) fail("'", file.path(), "': cannot create dataset '", name, "'");
  if (!values.empty() && H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0) {
    fail("'", file.path(), "': cannot write dataset '", name, "' (disk full?)");
  }
}

std::vector<std::string> read_strings(const File& file, const std::string& name) {
  Handle dataset = open_dataset(file, name);
  Handle stored(H5Dget_type(dataset.get()), H5Tclose);
  if (H5Tget_class(stored.get()) != H5T_STRING || H5Tis_variable_str(stored.get()) <= 0) {
    fail("'", file.path(), "': dataset '", name, "' is not a list of variable-length strings");
  }
  const std::vector<int64_t> shape = array_shape(file, name);
  if (shape.size() != 1) fail("'", file.path(), "': dataset '", name, "' is not 1-D");
  std::vector<char*> pointers(static_cast<size_t>(shape[0]), nullptr);
  Handle type = utf8_string_type();
  if (!pointers.empty() && H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0) {
    fail("'", file.path(), "': cannot read dataset '", name, "' (corrupt or truncated file)");
  }
  std::vector<std::string> values;
  values.reserve(pointers.size());
  for (char* p : pointers) values.emplace_back(p == nullptr ? "" : p);
  if (!pointers.empty()) {
    Handle space(H5Dget_space(dataset.get()), H5Sclose);
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(type.get(), space.get(), H5P_DEFAULT, pointers.data());
#else
    H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, pointers.data());
#endif
  }
  return values;
}

std::vector<std::string> group_members(const File& file, const std::string& group) {
  Handle g(H5Gopen2(file.id(), group.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) fail("'", file.path(), "': missing group '", group, "'");
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) fail("'", file.path(), "': unreadable group '", group, "'");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (size < 0) fail("'", file.path(), "': unreadable member of group '", group, "'");
    std::string name(static_cast<size_t>(size) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(size));
    names.push_back(std::move(name));
  }
  return names;
}

#define SEQREC_H5_ARRAY_INSTANTIATE(T)                                                                        \
  template void write_array<T>(File&, const std::string&, const std::vector<int64_t>&, const T*);            \
  template std::vector<T> read_array<T>(const File&, const std::string&);                                    \
  template std::vector<T> read_strided_rows<T>(const File&, const std::string&, int64_t, int64_t, int64_t);
SEQREC_H5_ARRAY_INSTANTIATE(float)
SEQREC_H5_ARRAY_INSTANTIATE(int64_t)
#undef SEQREC_H5_ARRAY_INSTANTIATE

}  // namespace seqrec::h5
