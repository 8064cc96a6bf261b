#include "seqrec/data/query_sessions.h"

#include "seqrec/core/error.h"
#include "seqrec/core/parse.h"
#include "seqrec/data/delimited_text.h"
#include "seqrec/data/shard.h"

namespace seqrec {

namespace {

// One row of filler for a feature the input does not give.
void append_filler(Column& column, const FeatureSpec& feature) {
  std::visit(
      [&](auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        for (int64_t k = 0; k < column.width; ++k) {
          values.push_back(feature.kind == FeatureKind::Categorical && k == 0 ? T(kUnknownId) : T(0));
        }
      },
      column.values);
}

// Row number -> session key, from sessions.tsv ("row<TAB>session<TAB>user").
std::vector<std::string> session_keys(const Dataset& dataset) {
  const std::filesystem::path path = dataset.dir() / "sessions.tsv";
  std::vector<std::string> keys;
  if (!std::filesystem::exists(path)) return keys;
  LineReader lines(path);
  std::string line;
  lines.next(line);  // header
  while (lines.next(line)) {
    const size_t a = line.find('\t');
    const size_t b = line.find('\t', a == std::string::npos ? a : a + 1);
    const auto row = a == std::string::npos ? std::nullopt : parse_int64(std::string_view(line).substr(0, a));
    if (!row || *row != static_cast<int64_t>(keys.size())) {
      fail(lines.where(), ": expected 'row<TAB>session<TAB>user' with row ", keys.size());
    }
    keys.push_back(line.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1));
  }
  return keys;
}

}  // namespace

QuerySessions read_query_sessions(const std::filesystem::path& path, const Schema& schema, const Vocabulary& items) {
  LineReader lines(path);
  const Header header = read_header(lines);
  const std::string file = path.string();
  const auto key_column = static_cast<size_t>(require_column(header, "session_id", "--input", file));
  const auto items_column = static_cast<size_t>(require_column(header, "items", "--input", file));
  const std::vector<FeatureSpec> sequence = schema.sequence_features();
  const std::vector<FeatureSpec> context = schema.context_features();

  QuerySessions query;
  query.sessions = SessionBlock::empty(schema, false);
  SessionBlock& block = query.sessions;
  std::vector<std::string> fields;
  std::string line;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    if (!split_fields(line, header.delimiter, fields)) fail(lines.where(), ": unterminated quote");
    if (fields.size() <= std::max(key_column, items_column)) {
      fail(lines.where(), ": expected ", header.names.size(), " fields (", header.joined_names(), "), found ",
           fields.size());
    }
    int64_t known = 0;
    for (const std::string& raw : split_whitespace(fields[items_column])) {
      const int64_t id = items.id(raw);
      if (id < kFirstRealId) {
        ++query.unknown_items;
        continue;
      }
      for (size_t c = 0; c < sequence.size(); ++c) {
        if (sequence[c].has_tag(kTagItemId)) block.sequence[c].as<int64_t>().push_back(id);
        else append_filler(block.sequence[c], sequence[c]);
      }
      ++known;
    }
    if (known == 0) {
      ++query.dropped_sessions;
      continue;
    }
    for (size_t c = 0; c < context.size(); ++c) append_filler(block.context[c], context[c]);
    block.session_ids.push_back(static_cast<int64_t>(query.keys.size()));
    block.offsets.push_back(block.offsets.back() + known);
    query.keys.push_back(fields[key_column]);
  }
  return query;
}

QuerySessions read_query_sessions(const Dataset& dataset, const std::string& split) {
  const std::vector<std::string> keys = session_keys(dataset);
  QuerySessions query;
  query.sessions = SessionBlock::empty(dataset.schema(), false);
  for (const ShardEntry& shard : dataset.shards(split)) {
    const ShardReader reader(dataset.path_of(shard), dataset.schema());
    const int64_t step = dataset.manifest().block_sessions;
    for (int64_t begin = 0; begin < reader.num_sessions(); begin += step) {
      SessionBlock block = reader.read(begin, std::min(reader.num_sessions(), begin + step));
      block.targets.clear();
      for (int64_t s = 0; s < block.num_sessions(); ++s) {
        const int64_t row = block.session_ids[static_cast<size_t>(s)];
        if (block.length(s) == 0) {
          ++query.dropped_sessions;
          continue;
        }
        query.sessions.append_session(block, s);
        query.sessions.session_ids.back() = static_cast<int64_t>(query.keys.size());
        query.keys.push_back(row >= 0 && row < static_cast<int64_t>(keys.size()) ? keys[static_cast<size_t>(row)]
                                                                                  : std::to_string(row));
      }
    }
  }
  if (query.keys.empty() && query.dropped_sessions == 0) {
    fail("data set '", dataset.dir().string(), "' has no sessions in split '", split, "'");
  }
  return query;
}

}  // namespace seqrec
