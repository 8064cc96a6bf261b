// Command options from INI files and the command line, through Boost.Program_options.
//
// Options are named "section.key": `--train.lr 0.001` on the command line, `lr = 0.001`
// under `[train]` in a file given by --config. The command line wins over the file, the
// file over defaults. Every user mistake (unknown option, malformed value, missing file)
// becomes a UserError naming it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace seqrec {

namespace po = boost::program_options;

struct OptionsRequest {
  std::string command;                   // for messages: "seqrec prepare"
  po::options_description* described;    // the command's own options
  std::string positional_name;           // "" for none; else one positional argument bound to it
};

struct ParsedOptions {
  po::variables_map values;
  bool help = false;
  bool print_config = false;
};

// Adds the options every command has (--config, --print-config, --help, --log-level) and
// parses args (without the program and command names).
ParsedOptions parse_options(const OptionsRequest& request, const std::vector<std::string>& args);

// The shortest text that reads back to the same double: 0.2 is "0.2" (Boost's default
// text for a default value would be 0.20000000000000001), 1/6 keeps every digit.
std::string shortest_text(double value);

// The effective configuration as an INI text, sections in order of first appearance.
std::string render_config(const po::options_description& described, const po::variables_map& values);

// The values of a text render_config wrote, by "section.key" ("key" outside a section).
std::map<std::string, std::string> config_values(const std::string& text);

}  // namespace seqrec
