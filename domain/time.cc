#include "domain/time.h"

#include <chrono>
#include <cstdio>

namespace custody {
namespace {

bool ReadDigits(std::string_view text, std::size_t at, std::size_t count, int* value) {
  if (at + count > text.size()) return false;
  int result = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    result = result * 10 + (text[i] - '0');
  }
  *value = result;
  return true;
}

}  // namespace

std::string FormatTime(TimeMs time) {
  using namespace std::chrono;
  const sys_time<milliseconds> point{milliseconds{time}};
  const auto day = floor<days>(point);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> clock{point - day};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(date.year()),
                unsigned(date.month()), unsigned(date.day()), int(clock.hours().count()),
                int(clock.minutes().count()), int(clock.seconds().count()),
                int(clock.subseconds().count()));
  return buffer;
}

std::optional<TimeMs> ParseTime(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!ReadDigits(text, 0, 4, &year) || text.size() < 20 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't') || !ReadDigits(text, 11, 2, &hour) || text[13] != ':' ||
      !ReadDigits(text, 14, 2, &minute) || text[16] != ':' || !ReadDigits(text, 17, 2, &second)) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year{year}, std::chrono::month(unsigned(month)),
                            std::chrono::day(unsigned(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;

  std::size_t at = 19;
  int millis = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    const std::size_t first = at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (at - first < 3) millis = millis * 10 + (text[at] - '0');
      ++at;
    }
    const std::size_t digits = at - first;
    if (digits == 0) return std::nullopt;  // RFC 3339 bounds neither the digits nor this
    for (std::size_t i = digits; i < 3; ++i) millis *= 10;
  }

  int offset_minutes = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int offset_hours, offset_mins;
    if (!ReadDigits(text, at + 1, 2, &offset_hours) || at + 3 >= text.size() ||
        text[at + 3] != ':' || !ReadDigits(text, at + 4, 2, &offset_mins) || offset_hours > 23 ||
        offset_mins > 59) {
      return std::nullopt;
    }
    offset_minutes = (offset_hours * 60 + offset_mins) * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;

  const sys_days days_since_epoch{date};
  const auto total = days_since_epoch.time_since_epoch() + hours{hour} + minutes{minute} +
                     seconds{second} + milliseconds{millis} - minutes{offset_minutes};
  const TimeMs time = duration_cast<milliseconds>(total).count();
  // "0000-01-01T00:30:00+01:00" is a valid RFC 3339 text for a time in year -1.
  if (time < kMinTime || time > kMaxTime) return std::nullopt;
  return time;
}

}  // namespace custody
