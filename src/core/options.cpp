#include "seqrec/core/options.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "seqrec/core/error.h"

namespace seqrec {

namespace {

void add_common_options(po::options_description& common) {
  common.add_options()
      ("help,h", po::bool_switch(), "show this help and exit")
      ("config", po::value<std::string>(), "INI file of options ([section] key = value); the command line wins")
      ("print-config", po::bool_switch(), "print the effective configuration as INI and exit")
      ("log-level", po::value<std::string>()->default_value("info"), "debug|info|warn|error");
}

}  // namespace

std::string shortest_text(double value) {
  for (int digits = 15;; ++digits) {
    std::ostringstream out;
    out.precision(digits);
    out << value;
    if (digits >= 17 || std::stod(out.str()) == value) return out.str();
  }
}

namespace {

std::string value_text(const po::variable_value& value) {
  const boost::any& any = value.value();
  if (auto* v = boost::any_cast<std::string>(&any)) return *v;
  if (auto* v = boost::any_cast<bool>(&any)) return *v ? "true" : "false";
  if (auto* v = boost::any_cast<int>(&any)) return std::to_string(*v);
  if (auto* v = boost::any_cast<int64_t>(&any)) return std::to_string(*v);
  if (auto* v = boost::any_cast<uint64_t>(&any)) return std::to_string(*v);
  // A run's recorded config rebuilds exactly the options it ran with.
  if (auto* v = boost::any_cast<double>(&any)) return shortest_text(*v);
  if (auto* v = boost::any_cast<std::vector<std::string>>(&any)) {
    std::string joined;
    for (const auto& s : *v) joined += (joined.empty() ? "" : ",") + s;
    return joined;
  }
  return "?";
}

}  // namespace

ParsedOptions parse_options(const OptionsRequest& request, const std::vector<std::string>& args) {
  po::options_description common("Common options");
  add_common_options(common);
  po::options_description all;
  all.add(common).add(*request.described);

  po::positional_options_description positional;
  if (!request.positional_name.empty()) positional.add(request.positional_name.c_str(), 1);

  ParsedOptions parsed;
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), parsed.values);
    if (parsed.values.count("config")) {
      const std::string path = parsed.values["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) fail(request.command, ": cannot open config file '", path, "'");
      try {
        // Values already stored from the command line are kept: the command line wins.
        po::store(po::parse_config_file(file, *request.described, /*allow_unregistered=*/false),
                  parsed.values);
      } catch (const po::error& e) {
        fail(request.command, ": config file '", path, "': ", e.what());
      }
    }
    parsed.help = parsed.values["help"].as<bool>();
    parsed.print_config = parsed.values["print-config"].as<bool>();
    if (!parsed.help) po::notify(parsed.values);
  } catch (const po::error& e) {
    fail(request.command, ": ", e.what());
  }
  return parsed;
}

std::string render_config(const po::options_description& described, const po::variables_map& values) {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sections;
  std::vector<std::string> order;
  for (const auto& option : described.options()) {
    const std::string name = option->long_name();
    auto it = values.find(name);
    if (it == values.end() || it->second.empty()) continue;
    const auto dot = name.find('.');
    const std::string section = dot == std::string::npos ? "" : name.substr(0, dot);
    const std::string key = dot == std::string::npos ? name : name.substr(dot + 1);
    if (!sections.count(section)) order.push_back(section);
    sections[section].emplace_back(key, value_text(it->second));
  }
  // Keys without a section must come before the first [section] header, or reading the
  // file back would put them in that section.
  std::stable_partition(order.begin(), order.end(), [](const std::string& section) { return section.empty(); });
  std::ostringstream out;
  for (const auto& section : order) {
    if (!section.empty()) out << "[" << section << "]\n";
    for (const auto& [key, value] : sections[section]) out << key << " = " << value << "\n";
    out << "\n";
  }
  return out.str();
}

std::map<std::string, std::string> config_values(const std::string& text) {
  const auto trimmed = [](const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r");
    return first == std::string::npos ? std::string() : s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
  };
  std::map<std::string, std::string> values;
  std::string section;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    line = trimmed(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trimmed(line.substr(1, line.size() - 2));
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string::npos) continue;
    const std::string key = trimmed(line.substr(0, equals));
    values[section.empty() ? key : section + "." + key] = trimmed(line.substr(equals + 1));
  }
  return values;
}

}  // namespace seqrec
