#pragma once

// Helpers shared by the eventstore tests: a fresh temporary folder per test, event and request
// builders, and raw SQLite access for tampering.

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "domain/event.h"
#include "eventstore/event_store.h"
#include "tests/support/temp_dir.h"

namespace custody::eventstore::testing {

using ::custody::testing::TempDir;

inline Event MakeEvent(const std::string& type, const std::string& actor,
                       const std::string& data = "{}") {
  Event event;
  event.type = type;
  event.actor = actor;
  event.subject = actor;
  event.occurred_at = 1795255200000;  // 2026-11-21T10:00:00.000Z
  event.data = data;
  return event;
}

inline AppendRequest MakeRequest(const std::string& tenant, const std::string& stream,
                                 std::vector<Event> events, std::string command_id = "",
                                 std::optional<std::int64_t> expected_version = std::nullopt) {
  AppendRequest request;
  request.tenant = tenant;
  request.stream = stream;
  request.command_id = std::move(command_id);
  request.expected_version = expected_version;
  request.events = std::move(events);
  return request;
}

// Opens a store or fails the test.
inline std::unique_ptr<EventStore> OpenStore(const std::string& path, Options options = {}) {
  Result<std::unique_ptr<EventStore>> store = EventStore::Open(path, std::move(options));
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Appends one event and returns its position (0 on failure, with a test failure).
inline std::int64_t AppendOne(EventStore& store, const std::string& tenant,
                              const std::string& stream, Event event) {
  Result<AppendResult> result = store.Append(MakeRequest(tenant, stream, {std::move(event)}));
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok() || result->events.empty()) return 0;
  return result->events.front().position;
}

// True when `text` has `pattern`'s length and, position by position, a lower-case hex digit
// where `pattern` has 'h' and the same character elsewhere.
inline bool MatchesHexPattern(const std::string& text, const std::string& pattern) {
  if (text.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (pattern[i] == 'h' ? !hex : c != pattern[i]) return false;
  }
  return true;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A plain SQLite connection, as someone editing the file by hand would have.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // The SQLite result code; `error` receives SQLite's message.
  int Exec(const std::string& sql, std::string* error = nullptr) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    if (error != nullptr) *error = message != nullptr ? message : "";
    sqlite3_free(message);
    return rc;
  }
  // Every value of the first column of `sql`, as text.
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> values;
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      values.emplace_back(text != nullptr ? text : "");
    }
    sqlite3_finalize(stmt);
    return values;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace custody::eventstore::testing
