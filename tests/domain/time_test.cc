#include "domain/time.h"

#include <gtest/gtest.h>

namespace custody {
namespace {

TEST(Time, FormatsWithMillisecondsInUtc) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(1795255200004), "2026-11-21T10:00:00.004Z");
}

TEST(Time, ParsesWhatItFormats) {
  const TimeMs time = 1795255200004;
  EXPECT_EQ(ParseTime(FormatTime(time)), time);
}

TEST(Time, ParsesOffsetsAndFractions) {
  EXPECT_EQ(ParseTime("2026-11-21T11:00:00+01:00"), ParseTime("2026-11-21T10:00:00Z"));
  EXPECT_EQ(ParseTime("2026-11-21T10:00:00.1Z"), 1795255200100);
  EXPECT_EQ(ParseTime("2026-11-21T10:00:00.123456789Z"), 1795255200123);
  // RFC 3339 puts no bound on the fraction's digits.
  EXPECT_EQ(ParseTime("2026-11-21T10:00:00.1234567891234Z"), 1795255200123);
  EXPECT_EQ(ParseTime("2026-11-21T10:00:00." + std::string(100, '9') + "Z"), 1795255200999);
}

TEST(Time, RefusesMalformedOrImpossibleTimes) {
  for (const char* bad : {"", "2026-11-21", "2026-11-21T10:00:00", "2026-02-30T10:00:00Z",
                          "2026-11-21T24:00:00Z", "2026-11-21T10:00:00.Z", "2026-11-21T10:00:00Zx",
                          "2026-11-21T10:00:00+1:00", "yesterday"}) {
    EXPECT_FALSE(ParseTime(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace custody
