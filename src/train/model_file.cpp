#include "seqrec/train/model_file.h"

#include <exception>
#include <set>
#include <vector>

#include "seqrec/core/error.h"
#include "seqrec/core/staged_output.h"
#include "seqrec/data/dataset_vocabularies.h"
#include "seqrec/data/hdf5_arrays.h"
#include "seqrec/data/hdf5_file.h"
#include "seqrec/model/model_options_json.h"
#include "seqrec/parallel/sharded_embedding_table.h"

namespace seqrec::train {

namespace {

constexpr const char* kFormat = "seqrec-model";
constexpr const char* kWeights = "weights";
constexpr const char* kVocabularies = "vocabularies";

// A parameter as the file names it. A sharded table's "shard" is stored whole as
// "weight", the name the local table of the feature gives its rows.
struct StoredParameter {
  std::string name;
  torch::Tensor tensor;
  parallel::ShardedEmbeddingTableImpl* sharded = nullptr;
};

std::vector<StoredParameter> stored_parameters(model::RecommenderImpl& recommender) {
  std::map<std::string, parallel::ShardedEmbeddingTableImpl*> sharded;  // by the shard's parameter name
  for (const auto& item : recommender.named_modules()) {
    if (auto* table = dynamic_cast<parallel::ShardedEmbeddingTableImpl*>(item.value().get())) {
      sharded[item.key().empty() ? "shard" : item.key() + ".shard"] = table;
    }
  }
  std::vector<StoredParameter> parameters;
  for (const auto& item : recommender.named_parameters()) {
    if (item.value().scalar_type() != torch::kFloat32) {
      throw std::logic_error("model file: parameter '" + item.key() + "' is not float32");
    }
    const auto table = sharded.find(item.key());
    if (table == sharded.end()) {
      parameters.push_back({item.key(), item.value(), nullptr});
    } else {
      const std::string prefix = item.key().substr(0, item.key().size() - std::string("shard").size());
      parameters.push_back({prefix + "weight", item.value(), table->second});
    }
  }
  return parameters;
}

// The whole table on rank 0 (undefined elsewhere): every rank sends its rows there, and
// rank r's rows are the ids r, r + N, r + 2N, ...
torch::Tensor gather_table(const parallel::ShardedEmbeddingTableImpl& table, comm::Communicator& comm) {
  const torch::Tensor shard = table.shard().detach().contiguous();
  std::vector<int64_t> counts(static_cast<size_t>(comm.size()), 0);
  counts[0] = shard.size(0);
  const comm::AllToAllResult received = comm.all_to_all(shard, counts);
  if (comm.rank() != 0) return {};
  std::vector<torch::Tensor> ids;
  for (int r = 0; r < comm.size(); ++r) ids.push_back(torch::arange(r, table.rows(), comm.size(), torch::kLong));
  torch::Tensor whole = torch::empty({table.rows(), table.dim()}, torch::kFloat32);
  whole.index_copy_(0, torch::cat(ids), received.tensor.to(torch::kCPU));
  return whole;
}

// Vocabularies must be those of categorical features of the schema, one id per value.
void check_vocabularies(const ModelDescription& description, const std::string& where) {
  for (const auto& [name, vocabulary] : description.vocabularies) {
    const FeatureSpec* feature = description.schema.find(name);
    if (feature == nullptr || feature->kind != FeatureKind::Categorical) {
      fail(where, ": vocabulary '", name, "' belongs to no categorical feature of the schema");
    }
    if (vocabulary.size() != feature->cardinality) {
      fail(where, ": vocabulary '", name, "' has ", vocabulary.size(), " values for a feature of cardinality ",
           feature->cardinality);
    }
  }
}

void write_file(const std::filesystem::path& path, const std::vector<std::pair<std::string, torch::Tensor>>& weights,
                const ModelDescription& description) {
  check_vocabularies(description, path.string());
  StagedPath staged(path, /*overwrite=*/true);
  {
    h5::File file = h5::File::create(staged.temporary().string());
    file.set_attribute("format", std::string(kFormat));
    file.set_attribute("format_version", kModelFileFormatVersion);
    file.set_attribute("seqrec_version", std::string(SEQREC_VERSION));
    file.set_attribute("model_options", model::model_options_to_json(description.options));
    file.set_attribute("schema", description.schema.to_json_text());
    file.create_group(kVocabularies);
    for (const auto& [name, vocabulary] : description.vocabularies) {
      const std::string group = std::string(kVocabularies) + "/" + name;
      file.create_group(group);
      h5::write_strings(file, group + "/values", vocabulary.values());
      h5::write_array(file, group + "/counts", {vocabulary.size()}, vocabulary.counts().data());
    }
    file.create_group(kWeights);
    for (const auto& [name, tensor] : weights) {
      h5::write_array(file, std::string(kWeights) + "/" + name, tensor.sizes().vec(), tensor.data_ptr<float>());
    }
    file.flush();
  }
  staged.commit();
}

h5::File open_model_file(const std::filesystem::path& path) {
  h5::File file = h5::File::open_read_only(path.string());
  if (!file.has_attribute("format") || file.string_attribute("format") != kFormat) {
    fail("'", path.string(), "' is not a seqrec model file (no format attribute '", kFormat, "')");
  }
  const int64_t version = file.int_attribute("format_version");
  if (version < 1 || version > kModelFileFormatVersion) {
    fail("'", path.string(), "': model file format version ", version, " (this seqrec reads up to ",
         kModelFileFormatVersion, ")");
  }
  return file;
}

}  // namespace

void write_model_file(const std::filesystem::path& path, model::RecommenderImpl& recommender,
                      const ModelDescription& description, comm::Communicator& comm) {
  torch::NoGradGuard no_grad;
  std::vector<std::pair<std::string, torch::Tensor>> weights;  // rank 0's, whole
  for (const StoredParameter& p : stored_parameters(recommender)) {
    const torch::Tensor whole =
        p.sharded != nullptr ? gather_table(*p.sharded, comm) : p.tensor.detach().to(torch::kCPU).contiguous();
    if (comm.rank() == 0) weights.emplace_back(p.name, whole);
  }
  std::exception_ptr error;
  if (comm.rank() == 0) {
    try {
      write_file(path, weights, description);
    } catch (...) {
      error = std::current_exception();
    }
  }
  if (comm.any(error != nullptr)) {
    if (error) std::rethrow_exception(error);
    fail("rank 0 could not write the model file '", path.string(), "'");
  }
}

ModelDescription read_model_file(const std::filesystem::path& path) {
  const h5::File file = open_model_file(path);
  const std::string where = path.string();
  ModelDescription description;
  description.options = model::model_options_from_json(file.string_attribute("model_options"), where);
  description.schema = Schema::from_json_text(file.string_attribute("schema"), where);
  if (file.exists(kVocabularies)) {
    for (const std::string& name : h5::group_members(file, kVocabularies)) {
      const std::string group = std::string(kVocabularies) + "/" + name;
      description.vocabularies.emplace(
          name, Vocabulary::from_entries(h5::read_strings(file, group + "/values"),
                                         h5::read_array<int64_t>(file, group + "/counts"), where + ": " + group));
    }
  }
  check_vocabularies(description, where);
  return description;
}

void load_model_weights(const std::filesystem::path& path, model::RecommenderImpl& recommender,
                        comm::Communicator& comm) {
  torch::NoGradGuard no_grad;
  const h5::File file = open_model_file(path);
  std::vector<std::string> members = h5::group_members(file, kWeights);
  std::set<std::string> left(members.begin(), members.end());
  for (const StoredParameter& p : stored_parameters(recommender)) {
    const std::string name = std::string(kWeights) + "/" + p.name;
    if (left.erase(p.name) == 0) {
      fail("'", path.string(), "' has no weight '", p.name, "' (written for a model of other options?)");
    }
    const std::vector<int64_t> expected =
        p.sharded != nullptr ? std::vector<int64_t>{p.sharded->rows(), p.sharded->dim()} : p.tensor.sizes().vec();
    const std::vector<int64_t> shape = h5::array_shape(file, name);
    if (shape != expected) {
      fail("'", path.string(), "': weight '", p.name, "' has shape ", torch::IntArrayRef(shape), ", the model's is ",
           torch::IntArrayRef(expected));
    }
    // Rank r of N holds the rows r, r + N, ... of a sharded table (its global_ids()).
    std::vector<float> values = p.sharded != nullptr
                                    ? h5::read_strided_rows<float>(file, name, comm.rank(), comm.size(),
                                                                   p.sharded->local_rows())
                                    : h5::read_array<float>(file, name);
    p.tensor.copy_(torch::from_blob(values.data(), p.tensor.sizes(), torch::kFloat32));
  }
  if (!left.empty()) {
    fail("'", path.string(), "': weight '", *left.begin(), "' belongs to no parameter of the model its options build");
  }
}

model::Recommender load_model(const std::filesystem::path& path, const ModelDescription& description,
                              const model::TableFactory& tables, comm::Communicator& comm) {
  model::Recommender recommender = model::build_recommender(description.options, description.schema, tables);
  recommender->to(comm.device());
  load_model_weights(path, *recommender, comm);
  recommender->eval();
  return recommender;
}

void check_dataset_fits(const ModelDescription& description, const std::filesystem::path& model_path,
                        const Dataset& dataset) {
  const std::string which =
      str_cat("data set '", dataset.dir().string(), "' does not fit model '", model_path.string(), "': ");
  const Schema& ours = description.schema;
  const Schema& theirs = dataset.schema();
  if (ours.fingerprint() != theirs.fingerprint()) {
    for (const FeatureSpec& f : ours.features()) {
      const FeatureSpec* other = theirs.find(f.name);
      if (other == nullptr) fail(which, "it has no feature '", f.name, "'");
      if (other->cardinality != f.cardinality || other->kind != f.kind || other->scope != f.scope ||
          other->max_values != f.max_values || other->tags != f.tags) {
        fail(which, "feature '", f.name, "' differs (cardinality ", other->cardinality, " there, ", f.cardinality,
             " in the model; or its kind, scope, width or tags)");
      }
    }
    fail(which, "its schema has other features (fingerprint ", theirs.fingerprint(), ", the model's ",
         ours.fingerprint(), ")");
  }
  for (const auto& [name, vocabulary] : load_vocabularies(dataset)) {
    const auto it = description.vocabularies.find(name);
    if (it != description.vocabularies.end() && it->second.values() != vocabulary.values()) {
      fail(which, "feature '", name, "' maps raw values to other ids (prepared from other data?)");
    }
  }
}

}  // namespace seqrec::train
