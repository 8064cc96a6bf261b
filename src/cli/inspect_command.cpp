// seqrec inspect: what a prepared data set holds, for a person to read.
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>

#include "command.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/shard.h"
#include "seqrec/data/vocabulary.h"

namespace seqrec::cli {

namespace {

std::string describe_tags(const FeatureSpec& f) {
  std::string out;
  for (const auto& t : f.tags) out += (out.empty() ? "" : ",") + t;
  return out.empty() ? "-" : out;
}

void print_schema(const Schema& schema) {
  std::printf("\nfeatures (schema %s)\n", schema.fingerprint().c_str());
  std::printf("  %-20s %-12s %-9s %-8s %12s %6s  %s\n", "name", "kind", "scope", "dtype", "cardinality", "width", "tags");
  for (const auto& f : schema.features()) {
    std::printf("  %-20s %-12s %-9s %-8s %12lld %6lld  %s\n", f.name.c_str(), to_string(f.kind),
                to_string(f.scope), to_string(f.dtype), static_cast<long long>(f.cardinality),
                static_cast<long long>(f.max_values), describe_tags(f).c_str());
  }
}

void print_counts(const Dataset& dataset) {
  std::printf("\n%-8s %7s %12s %14s %12s\n", "split", "shards", "sessions", "events", "mean length");
  for (const char* split : {kSplitTrain, kSplitValid, kSplitTest}) {
    const int64_t sessions = dataset.num_sessions(split);
    const int64_t events = dataset.num_events(split);
    std::printf("%-8s %7zu %12lld %14lld %12.2f\n", split, dataset.shards(split).size(),
                static_cast<long long>(sessions), static_cast<long long>(events),
                sessions ? static_cast<double>(events) / sessions : 0.0);
  }
}

// Power-of-two buckets: 1, 2, 3-4, 5-8, ...
void print_length_histogram(const Dataset& dataset, const std::string& split) {
  std::map<int, int64_t> buckets;
  int64_t total = 0, longest = 0;
  for (const auto& shard : dataset.shards(split)) {
    ShardReader reader(dataset.path_of(shard), dataset.schema());
    const int64_t step = dataset.manifest().block_sessions;
    for (int64_t begin = 0; begin < reader.num_sessions(); begin += step) {
      for (int64_t length : reader.lengths(begin, std::min(reader.num_sessions(), begin + step))) {
        int bucket = 0;
        while ((int64_t{1} << bucket) < length) ++bucket;
        ++buckets[bucket];
        ++total;
        longest = std::max(longest, length);
      }
    }
  }
  std::printf("\nsession lengths in %s (longest %lld)\n", split.c_str(), static_cast<long long>(longest));
  for (const auto& [bucket, count] : buckets) {
    const int64_t hi = int64_t{1} << bucket;
    const int64_t lo = bucket == 0 ? 1 : hi / 2 + 1;
    const std::string range = lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
    const int bar = total ? static_cast<int>(50.0 * count / total + 0.5) : 0;
    std::printf("  %12s %10lld %s\n", range.c_str(), static_cast<long long>(count), std::string(bar, '#').c_str());
  }
}

std::string format_value(const FeatureSpec& f, const Column& column, int64_t row, const Vocabulary* vocab) {
  std::ostringstream out;
  for (int64_t k = 0; k < column.width; ++k) {
    const int64_t i = row * column.width + k;
    if (f.kind == FeatureKind::Categorical) {
      const int64_t id = column.as<int64_t>()[static_cast<size_t>(i)];
      if (k > 0 && id == kPaddingId) break;
      out << (k ? "|" : "") << (vocab ? vocab->value(id) : std::to_string(id));
    } else {
      std::visit([&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (!std::is_same_v<T, int64_t>) out << (k ? "|" : "") << v[static_cast<size_t>(i)];
      }, column.values);
    }
  }
  return out.str();
}

void print_sessions(const Dataset& dataset, const std::string& split, int64_t count) {
  const auto shards = dataset.shards(split);
  if (shards.empty() || count <= 0) return;
  const Schema& schema = dataset.schema();
  std::map<std::string, Vocabulary> vocabs;
  for (const auto& f : schema.features()) {
    if (!f.vocabulary.empty()) vocabs.emplace(f.name, Vocabulary::load(dataset.dir() / f.vocabulary));
  }
  auto vocab_of = [&](const FeatureSpec& f) { auto it = vocabs.find(f.name); return it == vocabs.end() ? nullptr : &it->second; };

  ShardReader reader(dataset.path_of(shards.front()), schema);
  const SessionBlock block = reader.read(0, std::min(count, reader.num_sessions()));
  const auto sequence = schema.sequence_features();
  const auto context = schema.context_features();
  std::printf("\nfirst %lld sessions of %s (raw values)\n", static_cast<long long>(block.num_sessions()), split.c_str());
  for (int64_t s = 0; s < block.num_sessions(); ++s) {
    std::printf("  session %lld, %lld events\n", static_cast<long long>(block.session_ids[s]),
                static_cast<long long>(block.length(s)));
    for (size_t c = 0; c < context.size(); ++c) {
      std::printf("    %s: %s\n", context[c].name.c_str(), format_value(context[c], block.context[c], s, vocab_of(context[c])).c_str());
    }
    for (size_t c = 0; c < sequence.size(); ++c) {
      std::string values;
      for (int64_t e = block.offsets[s]; e < block.offsets[s + 1]; ++e) {
        values += (values.empty() ? "" : " ") + format_value(sequence[c], block.sequence[c], e, vocab_of(sequence[c]));
      }
      if (block.has_targets()) values += "  -> " + format_value(sequence[c], block.targets[c], s, vocab_of(sequence[c]));
      std::printf("    %s: %s\n", sequence[c].name.c_str(), values.c_str());
    }
  }
}

}  // namespace

Command inspect_command() {
  Command c;
  c.name = "inspect";
  c.summary = "print a prepared data set's schema, counts, length histogram and a few sessions";
  c.positional_name = "path";
  c.describe = [](po::options_description& options) {
    options.add_options()
        ("path", po::value<std::string>()->required(), "prepared data set directory (positional)")
        ("split", po::value<std::string>()->default_value("train"), "split whose lengths and sessions are shown")
        ("sessions", po::value<int64_t>()->default_value(3), "number of sessions decoded to raw values")
        ("verify", po::bool_switch(), "recompute every shard's CRC-32 against the manifest");
  };
  c.run = [](const po::variables_map& vm) {
    const std::string path = vm["path"].as<std::string>();
    const Dataset dataset = Dataset::open(path, vm["verify"].as<bool>());
    std::printf("data set %s (format version %d, %zu shards, %lld sessions per block)%s\n", path.c_str(),
                dataset.manifest().format_version, dataset.manifest().shards.size(),
                static_cast<long long>(dataset.manifest().block_sessions),
                vm["verify"].as<bool>() ? ", checksums verified" : "");
    print_schema(dataset.schema());
    print_counts(dataset);
    const std::string split = vm["split"].as<std::string>();
    print_length_histogram(dataset, split);
    print_sessions(dataset, split, vm["sessions"].as<int64_t>());
    return 0;
  };
  return c;
}

}  // namespace seqrec::cli
