#include "served_model.h"

#include <filesystem>

#include "command.h"
#include "seqrec/core/error.h"
#include "seqrec/core/threads.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/dataset_vocabularies.h"
#include "seqrec/parallel/sharded_embedding_table.h"
#include "seqrec/train/checkpoint_reader.h"
#include "seqrec/train/checkpoint_store.h"

namespace seqrec::cli {

void describe_serving_options(po::options_description& d, ServingOptions& o) {
  const ServingOptions defaults;
  d.add_options()
      ("model", po::value(&o.model)->default_value(defaults.model), "model file (model.h5 of seqrec train or export), or a checkpoint directory (ckpt/ or one ckpt/step-N/)")
      ("weights", po::value(&o.weights)->default_value(defaults.weights), "of a checkpoint: best (the best validated weights) | last (the last step's)")
      ("threads", po::value(&o.threads)->default_value(defaults.threads), "compute threads (0: cores / ranks on the node)");
  describe_dist_options(d, o.dist);
}

namespace {

// The step directory `path` names: itself, or the one a checkpoint directory's `latest`
// names (falling back to the newest valid one, as --resume auto does).
std::filesystem::path checkpoint_step(const std::string& path) {
  if (std::filesystem::exists(std::filesystem::path(path) / "manifest.json")) return path;
  const auto step = train::choose_checkpoint("auto", path);
  if (!step) fail("--model: '", path, "' is neither a model file nor a checkpoint directory with a complete checkpoint");
  return *step;
}

void serve_checkpoint(const ServingOptions& options, const model::TableFactory& tables, ServedModel& served) {
  if (options.weights != "best" && options.weights != "last") {
    fail("--weights: '", options.weights, "' is not best or last");
  }
  const std::filesystem::path step = checkpoint_step(options.model);
  const TrainedModelConfig config =
      trained_model_config(train::checkpoint_config(step), (step / "manifest.json").string());
  const Dataset dataset = Dataset::open(config.data);
  served.description = {config.model, dataset.schema(), load_vocabularies(dataset)};
  served.recommender = model::build_recommender(config.model, dataset.schema(), tables);
  served.recommender->to(served.comm->device());
  train::load_checkpoint_weights(step, *served.recommender, *served.comm, options.weights == "best");
  served.recommender->eval();
}

}  // namespace

ServedModel serve_model(const ServingOptions& options) {
  if (options.model.empty()) fail("--model: give the model file (model.h5 of seqrec train) or a checkpoint directory");
  ServedModel served;
  served.comm = connect_ranks(options.dist);
  configure_threads(threads_per_rank(options.threads));
  const model::TableFactory tables = parallel::sharded_table_factory(served.comm, options.dist.shard_threshold);
  if (std::filesystem::is_directory(options.model)) {
    serve_checkpoint(options, tables, served);
  } else {
    served.description = train::read_model_file(options.model);
    served.recommender = train::load_model(options.model, served.description, tables, *served.comm);
  }
  return served;
}

}  // namespace seqrec::cli
