// Whole arrays of any rank and lists of strings in an HDF5 file, as h5py users expect
// them: a weight matrix is a [rows, dim] dataset, a vocabulary a 1-D dataset of UTF-8
// strings. (Shards use File's extendible 1-D/2-D datasets instead.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seqrec/data/hdf5_file.h"

namespace seqrec::h5 {

// A fixed-size dataset holding `data` (row-major, product of `shape` elements), chunked
// along its first dimension with Fletcher-32 checksums, not compressed. T: float, int64_t.
template <typename T>
void write_array(File& file, const std::string& name, const std::vector<int64_t>& shape, const T* data);

// Dimensions of a dataset of any rank ({} for a scalar).
std::vector<int64_t> array_shape(const File& file, const std::string& name);

// The whole dataset, row-major.
template <typename T>
std::vector<T> read_array(const File& file, const std::string& name);

// Rows first, first + stride, ... (`count` of them) along the first dimension, row-major:
// one rank's rows of a table dealt out by id mod N.
template <typename T>
std::vector<T> read_strided_rows(const File& file, const std::string& name, int64_t first, int64_t stride,
                                 int64_t count);

// A 1-D dataset of variable-length UTF-8 strings.
void write_strings(File& file, const std::string& name, const std::vector<std::string>& values);
std::vector<std::string> read_strings(const File& file, const std::string& name);

// Names of the links directly inside a group, in name order.
std::vector<std::string> group_members(const File& file, const std::string& group);

}  // namespace seqrec::h5
