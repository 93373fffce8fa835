#pragma once

// Times are milliseconds since the Unix epoch, UTC. On the wire they are RFC 3339 with
// milliseconds: 2026-11-21T10:00:00.000Z.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace custody {

using TimeMs = std::int64_t;

// What four year digits can say in UTC, so every time FormatTime writes, ParseTime reads back.
inline constexpr TimeMs kMinTime = -62167219200000;  // 0000-01-01T00:00:00.000Z
inline constexpr TimeMs kMaxTime = 253402300799999;  // 9999-12-31T23:59:59.999Z

// Formats as 2026-11-21T10:00:00.000Z.
std::string FormatTime(TimeMs time);

// Parses an RFC 3339 date-time ("Z" or a "+hh:mm" offset, any number of fraction digits,
// truncated to milliseconds). Returns nullopt for anything else, including impossible dates and
// times that fall outside years 0000 to 9999 in UTC once the offset is applied (FormatTime could
// not write them back, and the event store refuses them).
std::optional<TimeMs> ParseTime(std::string_view text);

}  // namespace custody
