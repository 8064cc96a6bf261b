#include "seqrec/data/shard.h"

#include <algorithm>

#include "seqrec/core/error.h"
#include "seqrec/data/hdf5_file.h"

namespace seqrec {

namespace {

const char* kFormatName = "seqrec-shard";

std::string sequence_path(const FeatureSpec& f) { return "/sequence/" + f.name; }
std::string context_path(const FeatureSpec& f) { return "/context/" + f.name; }
std::string target_path(const FeatureSpec& f) { return "/targets/" + f.name; }

void create_column(h5::File& file, const std::string& path, const FeatureSpec& f, const h5::ChunkedLayout& layout) {
  switch (f.dtype) {
    case DType::Int64: file.create_dataset<int64_t>(path, f.max_values, layout); break;
    case DType::Float32: file.create_dataset<float>(path, f.max_values, layout); break;
    case DType::Float64: file.create_dataset<double>(path, f.max_values, layout); break;
  }
}

void append_column(h5::File& file, const std::string& path, const Column& column) {
  std::visit([&](const auto& values) { file.append(path, values, column.width); }, column.values);
}

Column read_column(const h5::File& file, const std::string& path, const FeatureSpec& f, int64_t begin, int64_t end) {
  Column column = Column::empty_like(f);
  switch (f.dtype) {
    case DType::Int64: column.values = file.read_rows<int64_t>(path, begin, end); break;
    case DType::Float32: column.values = file.read_rows<float>(path, begin, end); break;
    case DType::Float64: column.values = file.read_rows<double>(path, begin, end); break;
  }
  if (f.kind == FeatureKind::Categorical) {
    for (int64_t id : column.as<int64_t>()) {
      if (id < 0 || id >= f.cardinality) {
        fail("shard '", file.path(), "': dataset '", path, "' holds id ", id, " outside [0, ",
             f.cardinality, ") of the schema");
      }
    }
  }
  return column;
}

}  // namespace

// ---------------------------------------------------------------------------- writer

struct ShardWriter::Impl {
  h5::File file;
  std::vector<FeatureSpec> sequence;
  std::vector<FeatureSpec> context;
  bool with_targets;
  int64_t sessions = 0;
  int64_t events = 0;
  bool closed = false;
};

ShardWriter::ShardWriter(const std::filesystem::path& path, const Schema& schema, const std::string& split,
                         bool with_targets, ShardWriteOptions options)
    : impl_(new Impl{h5::File::create(path.string()), schema.sequence_features(),
                     schema.context_features(), with_targets}) {
  h5::File& file = impl_->file;
  file.set_attribute("format", std::string(kFormatName));
  file.set_attribute("format_version", int64_t{kShardFormatVersion});
  file.set_attribute("schema_fingerprint", schema.fingerprint());
  file.set_attribute("split", split);
  file.set_attribute("block_sessions", options.block_sessions);

  const h5::ChunkedLayout per_session{options.block_sessions, options.compression_level};
  const h5::ChunkedLayout per_event{options.chunk_events, options.compression_level};
  file.create_dataset<int64_t>("/offsets", 1, per_session);
  file.append<int64_t>("/offsets", {0}, 1);
  file.create_dataset<int64_t>("/session_ids", 1, per_session);
  for (const char* group : {"/sequence", "/context", "/targets"}) file.create_group(group);
  for (const auto& f : impl_->sequence) {
    create_column(file, sequence_path(f), f, per_event);
    if (with_targets) create_column(file, target_path(f), f, per_session);
  }
  for (const auto& f : impl_->context) create_column(file, context_path(f), f, per_session);
}

ShardWriter::~ShardWriter() = default;

void ShardWriter::append(const SessionBlock& block) {
  Impl& s = *impl_;
  if (s.closed) throw std::logic_error("ShardWriter::append after close");
  if (block.sequence.size() != s.sequence.size() || block.context.size() != s.context.size() ||
      block.has_targets() != s.with_targets) {
    throw std::logic_error("ShardWriter::append: block columns do not match the schema");
  }
  std::vector<int64_t> offsets(block.offsets.begin() + 1, block.offsets.end());
  for (auto& o : offsets) o += s.events;
  s.file.append("/offsets", offsets, 1);
  s.file.append("/session_ids", block.session_ids, 1);
  for (size_t i = 0; i < s.sequence.size(); ++i) {
    append_column(s.file, sequence_path(s.sequence[i]), block.sequence[i]);
    if (s.with_targets) append_column(s.file, target_path(s.sequence[i]), block.targets[i]);
  }
  for (size_t i = 0; i < s.context.size(); ++i) append_column(s.file, context_path(s.context[i]), block.context[i]);
  s.sessions += block.num_sessions();
  s.events += block.num_events();
}

void ShardWriter::close() {
  Impl& s = *impl_;
  if (s.closed) return;
  s.file.set_attribute("num_sessions", s.sessions);
  s.file.set_attribute("num_events", s.events);
  s.file.set_attribute("has_targets", int64_t{s.with_targets ? 1 : 0});
  s.file.flush();
  s.file.close();
  s.closed = true;
}

int64_t ShardWriter::num_sessions() const { return impl_->sessions; }
int64_t ShardWriter::num_events() const { return impl_->events; }

// ---------------------------------------------------------------------------- reader

struct ShardReader::Impl {
  h5::File file;
  std::vector<FeatureSpec> sequence;
  std::vector<FeatureSpec> context;
  int64_t sessions = 0;
  int64_t events = 0;
  bool with_targets = false;
  std::string split;

  void expect_rows(const std::string& path, int64_t rows, int64_t width) const {
    const std::vector<int64_t> shape = file.shape(path);
    const int64_t actual_width = shape.size() == 2 ? shape[1] : 1;
    if (shape[0] != rows || actual_width != width) {
      fail("shard '", file.path(), "': dataset '", path, "' has ", shape[0], "x", actual_width,
           " values, expected ", rows, "x", width);
    }
  }
};

ShardReader::ShardReader(const std::filesystem::path& path, const Schema& schema)
    : impl_(new Impl{h5::File::open_read_only(path.string()), schema.sequence_features(),
                     schema.context_features(), 0, 0, false, ""}) {
  Impl& s = *impl_;
  const std::string where = "shard '" + path.string() + "'";
  if (!s.file.has_attribute("format")) {
    fail(where, " is not a seqrec shard (no 'format' attribute)");
  }
  if (s.file.string_attribute("format") != kFormatName) fail(where, " is not a seqrec shard");
  const int64_t version = s.file.int_attribute("format_version");
  if (version != kShardFormatVersion) {
    fail(where, " has format version ", version, "; this seqrec reads version ", kShardFormatVersion);
  }
  const std::string fingerprint = s.file.string_attribute("schema_fingerprint");
  if (fingerprint != schema.fingerprint()) {
    fail(where, " was written for schema ", fingerprint, " but the data set's schema is ",
         schema.fingerprint(), " (shards of different preparations mixed?)");
  }
  s.sessions = s.file.int_attribute("num_sessions");
  s.events = s.file.int_attribute("num_events");
  s.with_targets = s.file.int_attribute("has_targets") != 0;
  s.split = s.file.string_attribute("split");

  s.expect_rows("/offsets", s.sessions + 1, 1);
  s.expect_rows("/session_ids", s.sessions, 1);
  for (const auto& f : s.sequence) {
    s.expect_rows(sequence_path(f), s.events, f.max_values);
    if (s.with_targets) s.expect_rows(target_path(f), s.sessions, f.max_values);
  }
  for (const auto& f : s.context) s.expect_rows(context_path(f), s.sessions, f.max_values);
  const auto last = s.file.read_rows<int64_t>("/offsets", s.sessions, s.sessions + 1);
  if (last[0] != s.events) fail(where, ": offsets end at ", last[0], " but the shard has ", s.events, " events");
}

ShardReader::~ShardReader() = default;
ShardReader::ShardReader(ShardReader&&) noexcept = default;
ShardReader& ShardReader::operator=(ShardReader&&) noexcept = default;

int64_t ShardReader::num_sessions() const { return impl_->sessions; }
int64_t ShardReader::num_events() const { return impl_->events; }
bool ShardReader::has_targets() const { return impl_->with_targets; }
const std::string& ShardReader::split() const { return impl_->split; }

std::vector<int64_t> ShardReader::lengths(int64_t begin, int64_t end) const {
  const std::vector<int64_t> offsets = impl_->file.read_rows<int64_t>("/offsets", begin, end + 1);
  std::vector<int64_t> lengths(offsets.size() - 1);
  for (size_t i = 0; i < lengths.size(); ++i) lengths[i] = offsets[i + 1] - offsets[i];
  return lengths;
}

SessionBlock ShardReader::read(int64_t begin, int64_t end) const {
  const Impl& s = *impl_;
  if (begin < 0 || end < begin || end > s.sessions) {
    throw std::out_of_range("ShardReader::read: sessions [" + std::to_string(begin) + ", " +
                            std::to_string(end) + ") of " + std::to_string(s.sessions));
  }
  SessionBlock block;
  block.offsets = s.file.read_rows<int64_t>("/offsets", begin, end + 1);
  const int64_t first = block.offsets.front();
  const int64_t last = block.offsets.back();
  for (size_t i = 0; i < block.offsets.size(); ++i) {
    block.offsets[i] -= first;
    if (i > 0 && block.offsets[i] < block.offsets[i - 1]) {
      fail("shard '", s.file.path(), "': offsets decrease at session ", begin + static_cast<int64_t>(i));
    }
  }
  if (first < 0 || last > s.events) fail("shard '", s.file.path(), "': offsets outside the event range");
  block.session_ids = s.file.read_rows<int64_t>("/session_ids", begin, end);
  for (const auto& f : s.sequence) {
    block.sequence.push_back(read_column(s.file, sequence_path(f), f, first, last));
    if (s.with_targets) block.targets.push_back(read_column(s.file, target_path(f), f, begin, end));
  }
  for (const auto& f : s.context) block.context.push_back(read_column(s.file, context_path(f), f, begin, end));
  return block;
}

}  // namespace seqrec
