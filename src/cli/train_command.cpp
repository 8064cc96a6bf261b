// seqrec train: a model on a prepared data set, validated as it goes, tested at the end.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "command.h"
#include "seqrec/comm/mpi_environment.h"
#include "seqrec/core/error.h"
#include "seqrec/core/log.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/dataset_vocabularies.h"
#include "seqrec/parallel/sharded_embedding_table.h"
#include "seqrec/train/model_file.h"
#include "seqrec/train/trainer.h"
#include "train_options.h"

namespace seqrec::cli {

namespace {

void write_result(const std::filesystem::path& path, const train::TrainResult& r) {
  nlohmann::json j = {{"steps", r.steps}, {"skipped_steps", r.skipped_steps}, {"best_step", r.best_step}, {"best_valid", r.best_valid},
                      {"test", r.test}, {"test_popularity", r.popularity_test}};
  std::ofstream(path) << j.dump(2) << "\n";
}

}  // namespace

TrainedModelConfig trained_model_config(const std::string& config_text, const std::string& where) {
  po::options_description described;
  describe_train_options(described);
  po::variables_map values;
  std::istringstream text(config_text);
  try {
    po::store(po::parse_config_file(text, described), values);
    po::notify(values);
  } catch (const po::error& e) {
    fail(where, ": not a seqrec train configuration: ", e.what());
  }
  TrainCommandOptions& o = bound_train_options();
  complete_model_options(o);
  return {o.model, o.data};
}

Command train_command() {
  Command c;
  c.name = "train";
  c.summary = "train a model on a prepared data set, report validation and test metrics";
  c.describe = describe_train_options;
  c.run = [](const po::variables_map& values) {
    TrainCommandOptions& o = bound_train_options();
    complete_model_options(o);
    train::check_sampled_protocol(o.train.sampled_eval, "eval.");
    const comm::MpiEnvironment mpi;
    std::shared_ptr<comm::Communicator> comm = connect_ranks(o.dist);
    const Dataset dataset = Dataset::open(o.data);
    // Replicated weights come from torch's generator: seeded alike on every rank, they
    // start alike (the optimizer broadcasts rank 0's as well).
    torch::manual_seed(o.train.seed);
    model::Recommender recommender = model::build_recommender(
        o.model, dataset.schema(), parallel::sharded_table_factory(comm, o.dist.shard_threshold));
    recommender->to(comm->device());  // sharded tables are built there; the replicated rest follows
    const std::filesystem::path run_dir(o.train.run_dir);
    po::options_description described;
    describe_train_options(described);
    o.train.checkpoint.config = render_config(described, values);
    if (comm->rank() == 0) {
      std::filesystem::create_directories(run_dir);
      std::ofstream(run_dir / "config.ini") << o.train.checkpoint.config;
    }

    const train::TrainResult result = train::train_model(recommender, dataset, o.train, o.model.max_seq_len, comm);
    if (result.preempted) return static_cast<int>(kExitPreempted);
    train::write_model_file(run_dir / "model.h5", *recommender, {o.model, dataset.schema(), load_vocabularies(dataset)},
                            *comm);
    if (comm->rank() == 0) write_result(run_dir / "result.json", result);
    return 0;
  };
  return c;
}

}  // namespace seqrec::cli
