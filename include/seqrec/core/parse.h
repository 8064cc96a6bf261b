// Strict parsing of numbers from text fields: the whole field must be the number.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace seqrec {

std::optional<int64_t> parse_int64(std::string_view text);  // nullopt: not an integer or overflow
std::optional<double> parse_double(std::string_view text);  // nullopt: not a finite number
// "90", "90s", "15m", "12h", "7d" -> seconds; nullopt when malformed.
std::optional<double> parse_duration_seconds(std::string_view text);
std::string_view trim(std::string_view text);

}  // namespace seqrec
