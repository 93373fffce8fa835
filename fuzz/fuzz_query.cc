// Query strings and the values in them: ParseQuery and the parameters of the state queries
// (`at=`) and of the history (filters, cursor, limit), PercentDecode, ParseTime and
// ParseNonNegative, on any bytes. Accepted values must be in range and round-trip.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "domain/time.h"
#include "fuzz/check.h"
#include "server/query_params.h"

namespace custody::fuzz {
namespace {

void CheckParams(const server::Params& params) {
  auto at = server::ParseAt(params);
  if (const auto* parsed = std::get_if<std::optional<server::At>>(&at); parsed && *parsed) {
    Check((*parsed)->position.has_value() != (*parsed)->time.has_value(), "at is one thing");
    if ((*parsed)->position) Check(*(*parsed)->position >= 0, "positions are >= 0");
  }
  for (bool with_limit : {true, false}) {
    auto history = server::ParseHistoryParams(params, with_limit);
    if (const auto* parsed = std::get_if<server::HistoryParams>(&history)) {
      Check(parsed->limit >= 1 && parsed->limit <= server::kMaxLimit, "limit in range");
      Check(parsed->filter.after_position >= 0, "cursor >= 0");
    } else {
      Check(!std::get<server::ParamError>(history).field.empty(), "errors name the field");
    }
  }
}

}  // namespace
}  // namespace custody::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace custody;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto query = server::ParseQuery(text);
  if (const auto* params = std::get_if<server::Params>(&query)) fuzz::CheckParams(*params);

  if (auto decoded = server::PercentDecode(text)) {
    fuzz::Check(decoded->size() <= text.size(), "decoding never grows");
  }
  if (const auto time = ParseTime(text)) {
    const std::string formatted = FormatTime(*time);
    fuzz::Check(ParseTime(formatted) == time, "a parsed time formats and parses back");
  }
  if (const auto number = server::ParseNonNegative(text)) {
    fuzz::Check(*number >= 0, "non-negative");
    const std::string digits = std::to_string(*number);
    const std::size_t first = text.find_first_not_of('0');
    const std::string_view significant =
        first == std::string_view::npos ? std::string_view("0") : text.substr(first);
    fuzz::Check(significant == digits, "the number is what the digits say");
  }
  return 0;
}
