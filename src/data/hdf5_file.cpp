#include "seqrec/data/hdf5_file.h"

#include <mutex>

#include "seqrec/core/error.h"

namespace seqrec::h5 {

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && closer_) closer_(id_);
  id_ = -1;
}

template <> hid_t native_type<int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }

void quiet_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

namespace {

Handle open_dataset(const File& file, const std::string& name) {
  hid_t id = H5Dopen2(file.id(), name.c_str(), H5P_DEFAULT);
  if (id < 0) fail("shard '", file.path(), "': missing dataset '", name, "'");
  return Handle(id, H5Dclose);
}

Handle slab_space(const Handle& dataset, int64_t begin, int64_t end, hsize_t width) {
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
  hsize_t count[2] = {static_cast<hsize_t>(end - begin), width};
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
  return space;
}

}  // namespace

File File::create(const std::string& path) {
  quiet_errors();
  // The 1.10 file format checksums its metadata, chunk indexes included, so damage
  // anywhere in the file is detected rather than read as wrong data (1.8's chunk B-tree
  // is unchecked: a flipped pointer silently serves another chunk). h5py reads it.
  Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(access.get(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  // No creation times in object headers: the same data gives the same bytes (and CRC).
  Handle creation(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  H5Pset_obj_track_times(creation.get(), false);
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, creation.get(), access.get());
  if (id < 0) fail("cannot create HDF5 file '", path, "'");
  return File(Handle(id, H5Fclose), path);
}

File File::open_read_only(const std::string& path) {
  quiet_errors();
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    fail("'", path, "' is not a readable HDF5 file (missing, truncated or corrupt)");
  }
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail("cannot open HDF5 file '", path, "' (truncated or corrupt)");
  return File(Handle(id, H5Fclose), path);
}

bool File::exists(const std::string& object) const {
  return H5Lexists(id(), object.c_str(), H5P_DEFAULT) > 0;
}

void File::create_group(const std::string& name) {
  Handle props(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  H5Pset_obj_track_times(props.get(), false);
  Handle group(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, props.get(), H5P_DEFAULT), H5Gclose);
  if (!group.valid()) fail("'", path_, "': cannot create group '", name, "'");
}

template <typename T>
void File::create_dataset(const std::string& name, int64_t width, const ChunkedLayout& layout) {
  const int rank = width > 1 ? 2 : 1;
  hsize_t dims[2] = {0, static_cast<hsize_t>(width)};
  hsize_t max_dims[2] = {H5S_UNLIMITED, static_cast<hsize_t>(width)};
  hsize_t chunk[2] = {static_cast<hsize_t>(std::max<int64_t>(1, layout.chunk_rows)), static_cast<hsize_t>(width)};
  Handle space(H5Screate_simple(rank, dims, max_dims), H5Sclose);
  Handle props(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_chunk(props.get(), rank, chunk);
  H5Pset_obj_track_times(props.get(), false);
  H5Pset_fletcher32(props.get());
  if (layout.compression_level > 0) {
    H5Pset_shuffle(props.get());
    H5Pset_deflate(props.get(), static_cast<unsigned>(layout.compression_level));
  }
  Handle dataset(H5Dcreate2(id(), name.c_str(), native_type<T>(), space.get(), H5P_DEFAULT,
                            props.get(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid()) fail("'", path_, "': cannot create dataset '", name, "'");
}

template <typename T>
void File::append(const std::string& name, const std::vector<T>& values, int64_t width) {
  if (values.empty()) return;
  Handle dataset = open_dataset(*this, name);
  const int rank = width > 1 ? 2 : 1;
  const int64_t old_rows = shape(name)[0];
  const int64_t new_rows = static_cast<int64_t>(values.size()) / width;
  hsize_t extent[2] = {static_cast<hsize_t>(old_rows + new_rows), static_cast<hsize_t>(width)};
  if (H5Dset_extent(dataset.get(), extent) < 0) fail("'", path_, "': cannot extend '", name, "'");
  Handle file_space = slab_space(dataset, old_rows, old_rows + new_rows, static_cast<hsize_t>(width));
  hsize_t count[2] = {static_cast<hsize_t>(new_rows), static_cast<hsize_t>(width)};
  Handle memory_space(H5Screate_simple(rank, count, nullptr), H5Sclose);
  if (H5Dwrite(dataset.get(), native_type<T>(), memory_space.get(), file_space.get(), H5P_DEFAULT,
               values.data()) < 0) {
    fail("'", path_, "': cannot write dataset '", name, "' (disk full?)");
  }
}

std::vector<int64_t> File::shape(const std::string& name) const {
  Handle dataset = open_dataset(*this, name);
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  hsize_t dims[2] = {0, 0};
  const int rank = H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  if (rank == 1) return {static_cast<int64_t>(dims[0])};
  if (rank == 2) return {static_cast<int64_t>(dims[0]), static_cast<int64_t>(dims[1])};
  fail("shard '", path_, "': dataset '", name, "' has rank ", rank, ", expected 1 or 2");
}

template <typename T>
std::vector<T> File::read_rows(const std::string& name, int64_t begin, int64_t end) const {
  Handle dataset = open_dataset(*this, name);
  const std::vector<int64_t> dims = shape(name);
  const int rank = static_cast<int>(dims.size());
  const int64_t width = rank == 2 ? dims[1] : 1;
  if (begin < 0 || end < begin || end > dims[0]) {
    fail("shard '", path_, "': rows [", begin, ", ", end, ") outside dataset '", name, "' of ", dims[0], " rows");
  }
  std::vector<T> values(static_cast<size_t>((end - begin) * width));
  if (values.empty()) return values;
  Handle file_space = slab_space(dataset, begin, end, static_cast<hsize_t>(width));
  hsize_t count[2] = {static_cast<hsize_t>(end - begin), static_cast<hsize_t>(width)};
  Handle memory_space(H5Screate_simple(rank, count, nullptr), H5Sclose);
  if (H5Dread(dataset.get(), native_type<T>(), memory_space.get(), file_space.get(), H5P_DEFAULT,
              values.data()) < 0) {
    fail("shard '", path_, "': cannot read dataset '", name, "' rows [", begin, ", ", end,
         ") (corrupt: checksum mismatch or truncated file)");
  }
  return values;
}

bool File::has_attribute(const std::string& name) const { return H5Aexists(id(), name.c_str()) > 0; }

void File::set_attribute(const std::string& name, int64_t value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attribute(H5Acreate2(id(), name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attribute.valid() || H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value) < 0) {
    fail("'", path_, "': cannot write attribute '", name, "'");
  }
}

void File::set_attribute(const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), std::max<size_t>(1, value.size()));
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attribute(H5Acreate2(id(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attribute.valid() || H5Awrite(attribute.get(), type.get(), value.data()) < 0) {
    fail("'", path_, "': cannot write attribute '", name, "'");
  }
}

int64_t File::int_attribute(const std::string& name) const {
  Handle attribute(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose);
  int64_t value = 0;
  if (!attribute.valid() || H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0) {
    fail("shard '", path_, "': missing or unreadable attribute '", name, "'");
  }
  return value;
}

std::string File::string_attribute(const std::string& name) const {
  Handle attribute(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!attribute.valid()) fail("shard '", path_, "': missing attribute '", name, "'");
  Handle type(H5Aget_type(attribute.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) {
    fail("shard '", path_, "': attribute '", name, "' is not a fixed-length string");
  }
  std::string value(H5Tget_size(type.get()), '\0');
  if (H5Aread(attribute.get(), type.get(), value.data()) < 0) {
    fail("shard '", path_, "': unreadable attribute '", name, "'");
  }
  value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
  return value;
}

void File::flush() { H5Fflush(id(), H5F_SCOPE_LOCAL); }

#define SEQREC_H5_INSTANTIATE(T)                                                              \
  template void File::create_dataset<T>(const std::string&, int64_t, const ChunkedLayout&);  \
  template void File::append<T>(const std::string&, const std::vector<T>&, int64_t);         \
  template std::vector<T> File::read_rows<T>(const std::string&, int64_t, int64_t) const;
SEQREC_H5_INSTANTIATE(int64_t)
SEQREC_H5_INSTANTIATE(float)
SEQREC_H5_INSTANTIATE(double)
#undef SEQREC_H5_INSTANTIATE

}  // namespace seqrec::h5
