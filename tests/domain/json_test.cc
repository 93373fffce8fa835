#include "domain/json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace custody {
namespace {

TEST(CanonicalJson, SortsKeysAndDropsWhiteSpace) {
  const auto value = boost::json::parse(R"({"b": [1, true, null], "a": {"d": "x", "c": "y"}})");
  EXPECT_EQ(CanonicalJson(value), R"({"a":{"c":"y","d":"x"},"b":[1,true,null]})");
}

TEST(CanonicalJson, EscapesOnlyWhatJsonRequires) {
  std::string out;
  AppendJsonString(out, std::string("q\"b\\n\n\x01/é", 10));
  EXPECT_EQ(out, "\"q\\\"b\\\\n\\n\\u0001/é\"");
}

}  // namespace
}  // namespace custody
