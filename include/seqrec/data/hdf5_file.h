// A thin RAII layer over the HDF5 C API: owned handles, typed whole-or-slab reads and
// writes of 1-D/2-D datasets, scalar attributes. Errors become UserErrors naming the
// file and the object, instead of HDF5's stack dumps on stderr.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace seqrec::h5 {

// An HDF5 identifier closed by the matching H5?close when it goes out of scope.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

template <typename T> hid_t native_type();

// Silences HDF5's automatic error printing (once per process).
void quiet_errors();

struct ChunkedLayout {
  int64_t chunk_rows = 4096;
  int compression_level = 4;  // deflate; 0 = none. Fletcher32 checksums are always on.
};

class File {
 public:
  static File create(const std::string& path);        // truncates
  static File open_read_only(const std::string& path);  // UserError if absent or not HDF5

  const std::string& path() const { return path_; }
  hid_t id() const { return handle_.get(); }
  bool exists(const std::string& object) const;
  void create_group(const std::string& name);

  // An extendible [rows, width] (width 1: 1-D) dataset of T, initially empty.
  template <typename T>
  void create_dataset(const std::string& name, int64_t width, const ChunkedLayout& layout);
  template <typename T>
  void append(const std::string& name, const std::vector<T>& values, int64_t width);

  // Dimensions of a dataset: {rows} or {rows, width}.
  std::vector<int64_t> shape(const std::string& name) const;
  // Rows [begin, end) as one hyperslab read.
  template <typename T>
  std::vector<T> read_rows(const std::string& name, int64_t begin, int64_t end) const;

  bool has_attribute(const std::string& name) const;
  void set_attribute(const std::string& name, int64_t value);
  void set_attribute(const std::string& name, const std::string& value);
  int64_t int_attribute(const std::string& name) const;
  std::string string_attribute(const std::string& name) const;

  void flush();
  void close() { handle_.reset(); }

 private:
  File(Handle handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}
  Handle handle_;
  std::string path_;
};

}  // namespace seqrec::h5
