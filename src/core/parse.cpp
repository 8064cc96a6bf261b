#include "seqrec/core/parse.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace seqrec {

std::string_view trim(std::string_view text) {
  const char* space = " \t\r\n";
  const size_t first = text.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(space);
  return text.substr(first, last - first + 1);
}

std::optional<int64_t> parse_int64(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  // strtod rather than from_chars: GCC 12's floating from_chars is fine, but strtod also
  // accepts the forms users write ("1e9", "+3").
  const std::string copy(trim(text));
  if (copy.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<double> parse_duration_seconds(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  double unit = 1;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: unit = 0;
  }
  if (unit != 0) text.remove_suffix(1);
  else unit = 1;
  const auto value = parse_double(text);
  if (!value || *value < 0) return std::nullopt;
  return *value * unit;
}

}  // namespace seqrec
