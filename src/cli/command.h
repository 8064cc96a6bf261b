// The subcommands of the `seqrec` binary.
#pragma once

#include <functional>
#include <string>

#include "seqrec/core/options.h"
#include "seqrec/model/recommender.h"

namespace seqrec::cli {

struct Command {
  std::string name;
  std::string summary;
  // Declares the command's options.
  std::function<void(po::options_description&)> describe;
  // Runs it with the parsed options; returns the exit code.
  std::function<int(const po::variables_map&)> run;
  std::string positional_name;  // bound to one positional argument, if any
};

Command prepare_command();
Command inspect_command();
Command train_command();
Command evaluate_command();
Command recommend_command();
Command export_command();
Command bench_command();

// What a `train` configuration (config.ini text, as each checkpoint records it) says of
// its model: the model options as `train` builds them, and the data set it trained on.
struct TrainedModelConfig {
  model::ModelOptions model;
  std::string data;
};
TrainedModelConfig trained_model_config(const std::string& config_text, const std::string& where);

}  // namespace seqrec::cli
