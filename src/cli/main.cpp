// seqrec: one binary, one subcommand per job. Dispatches, parses options and turns
// errors into one line and an exit code.
#include <iostream>
#include <string>
#include <vector>

#include "command.h"
#include "seqrec/core/allocator.h"
#include "seqrec/core/error.h"
#include "seqrec/core/log.h"

namespace {

using seqrec::cli::Command;

std::vector<Command> all_commands() {
  return {
      seqrec::cli::prepare_command(),
      seqrec::cli::inspect_command(),
      seqrec::cli::train_command(),
      seqrec::cli::evaluate_command(),
      seqrec::cli::recommend_command(),
      seqrec::cli::export_command(),
      seqrec::cli::bench_command(),
      {"version", "print the version and build configuration", [](seqrec::po::options_description&) {},
       [](const seqrec::po::variables_map&) {
#ifdef SEQREC_WITH_CUDA
         std::cout << "seqrec " << SEQREC_VERSION << " (GPU build: CUDA, NCCL)\n";
#else
         std::cout << "seqrec " << SEQREC_VERSION << " (CPU build)\n";
#endif
         return 0;
       },
       ""},
  };
}

void print_usage(const std::vector<Command>& commands) {
  std::cout << "seqrec " << SEQREC_VERSION
            << ": transformer sequential recommenders, trained across ranks\n\n"
               "usage: seqrec <command> [options]   (seqrec <command> --help for its options)\n\n"
               "commands:\n";
  for (const auto& c : commands) {
    std::cout << "  " << c.name << std::string(12 - std::min<size_t>(11, c.name.size()), ' ')
              << c.summary << "\n";
  }
}

int run_command(const Command& command, const std::vector<std::string>& args) {
  const std::string label = "seqrec " + command.name;
  seqrec::po::options_description described(label + " options");
  command.describe(described);
  seqrec::ParsedOptions parsed =
      seqrec::parse_options({label, &described, command.positional_name}, args);
  if (parsed.help) {
    std::cout << "usage: " << label
              << (command.positional_name.empty() ? "" : " <" + command.positional_name + ">")
              << " [options]\n" << command.summary << "\n\n" << described << "\n";
    return seqrec::kExitOk;
  }
  if (parsed.print_config) {
    std::cout << seqrec::render_config(described, parsed.values);
    return seqrec::kExitOk;
  }
  seqrec::log::set_level(seqrec::log::parse_level(parsed.values["log-level"].as<std::string>()));
  return command.run(parsed.values);
}

}  // namespace

int main(int argc, char** argv) {
  seqrec::keep_freed_memory();
  const std::vector<Command> commands = all_commands();
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "help") {
    print_usage(commands);
    return argc < 2 ? seqrec::kExitUsage : seqrec::kExitOk;
  }
  const std::string name = argv[1];
  if (name == "--version") return run_command(commands.back(), {});
  for (const auto& command : commands) {
    if (command.name != name) continue;
    try {
      return run_command(command, std::vector<std::string>(argv + 2, argv + argc));
    } catch (const seqrec::UserError& e) {
      std::cerr << "error: " << e.what() << "\n";
      return seqrec::kExitUsage;
    } catch (const std::exception& e) {
      std::cerr << "seqrec " << name << ": internal error: " << e.what() << "\n";
      return seqrec::kExitFailure;
    }
  }
  std::cerr << "error: unknown command '" << name << "' (seqrec --help lists the commands)\n";
  return seqrec::kExitUsage;
}
