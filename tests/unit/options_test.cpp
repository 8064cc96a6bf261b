// INI files plus command-line overrides: the command line wins, mistakes are named.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "seqrec/core/error.h"
#include "seqrec/core/options.h"

namespace seqrec {
namespace {

namespace fs = std::filesystem;

po::options_description train_like_options() {
  po::options_description d("test options");
  d.add_options()
      ("data.path", po::value<std::string>()->default_value("data/synthetic"), "data set")
      ("train.lr", po::value<double>()->default_value(1e-3), "learning rate")
      ("train.epochs", po::value<int64_t>()->default_value(10), "epochs");
  return d;
}

fs::path write_ini(const std::string& text) {
  const fs::path path = fs::temp_directory_path() / ("seqrec-options-" + std::to_string(getpid()) + ".ini");
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::vector<std::string>& args) {
  po::options_description d = train_like_options();
  try {
    parse_options({"seqrec test", &d, ""}, args);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(OptionsTest, DefaultsFileAndCommandLineInOrderOfPrecedence) {
  const fs::path ini = write_ini("[train]\nlr = 0.01\nepochs = 3\n[data]\npath = beauty\n");
  po::options_description d = train_like_options();
  const ParsedOptions parsed =
      parse_options({"seqrec test", &d, ""}, {"--config", ini.string(), "--train.epochs", "7"});
  fs::remove(ini);
  EXPECT_DOUBLE_EQ(parsed.values["train.lr"].as<double>(), 0.01);     // file over default
  EXPECT_EQ(parsed.values["train.epochs"].as<int64_t>(), 7);          // command line over file
  EXPECT_EQ(parsed.values["data.path"].as<std::string>(), "beauty");

  const std::string ini_text = render_config(d, parsed.values);
  EXPECT_NE(ini_text.find("[train]\nlr = 0.01\nepochs = 7\n"), std::string::npos) << ini_text;
  EXPECT_NE(ini_text.find("[data]\npath = beauty\n"), std::string::npos) << ini_text;
}

TEST(OptionsTest, MistakesNameTheOptionOrFile) {
  EXPECT_NE(error_of({"--train.lrr", "1"}).find("train.lrr"), std::string::npos);
  EXPECT_NE(error_of({"--train.epochs", "many"}).find("train.epochs"), std::string::npos);
  EXPECT_NE(error_of({"--config", "/nonexistent.ini"}).find("/nonexistent.ini"), std::string::npos);
  const fs::path ini = write_ini("[train]\nbogus = 1\n");
  const std::string message = error_of({"--config", ini.string()});
  fs::remove(ini);
  EXPECT_NE(message.find("train.bogus"), std::string::npos) << message;
  EXPECT_NE(message.find(ini.string()), std::string::npos) << message;
}

// A rendered config read back gives the same values, also for options without a section
// declared after sectioned ones (they must not land in the section above them).
TEST(OptionsTest, RenderedConfigReadsBackToTheSameValues) {
  po::options_description d;
  d.add_options()("train.lr", po::value<double>()->default_value(0.5), "")
      ("resume", po::value<std::string>()->default_value("auto"), "")
      ("data.path", po::value<std::string>()->default_value("x"), "");
  const fs::path ini = write_ini("resume = never\n[train]\nlr = 0.25\n");
  const ParsedOptions parsed = parse_options({"seqrec test", &d, ""}, {"--config", ini.string()});
  fs::remove(ini);
  std::istringstream text(render_config(d, parsed.values));
  po::variables_map again;
  po::store(po::parse_config_file(text, d), again);
  po::notify(again);
  EXPECT_EQ(again["resume"].as<std::string>(), "never");
  EXPECT_DOUBLE_EQ(again["train.lr"].as<double>(), 0.25);
  EXPECT_EQ(again["data.path"].as<std::string>(), "x");
  const std::map<std::string, std::string> expected = {{"resume", "never"}, {"train.lr", "0.25"}, {"data.path", "x"}};
  EXPECT_EQ(config_values(render_config(d, parsed.values)), expected);
}

TEST(OptionsTest, RenderedDoublesReadBackExactlyInTheirShortestForm) {
  po::options_description d;
  d.add_options()("a", po::value<double>()->default_value(1.0 / 6), "")("b", po::value<double>()->default_value(0.2), "");
  po::variables_map values;
  po::store(po::parse_command_line(0, static_cast<const char* const*>(nullptr), d), values);
  const std::string text = render_config(d, values);
  EXPECT_NE(text.find("b = 0.2\n"), std::string::npos) << text;
  std::istringstream in(text);
  po::variables_map again;
  po::store(po::parse_config_file(in, d), again);
  EXPECT_EQ(again["a"].as<double>(), 1.0 / 6);
  EXPECT_EQ(again["b"].as<double>(), 0.2);
}

}  // namespace
}  // namespace seqrec
