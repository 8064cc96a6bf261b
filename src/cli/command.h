// The subcommands of the `seqrec` binary.
#pragma once

#include <functional>
#include <string>

#include "seqrec/core/options.h"

namespace seqrec::cli {

struct Command {
  std::string name;
  std::string summary;
  // Declares the command's options; empty for a command not implemented yet.
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

}  // namespace seqrec::cli
