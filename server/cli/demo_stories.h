#pragma once

// The demo: the stories of the product documents, played through the normal command path
// (decode, decide, append), never by inserting rows.

#include <cstdint>
#include <ostream>
#include <string>

#include "domain/status.h"
#include "server/app.h"

namespace custody::cli {

struct DemoResult {
  std::int64_t recorded = 0;  // commands whose facts were appended
  std::int64_t refused = 0;   // commands refused by a rule, as the stories intend
  std::int64_t repeated = 0;  // commands already loaded by an earlier run (nothing appended)
};

// Plays every story. Each command has a fixed command_id, so a second run appends nothing.
// Only into an empty database or one the demo was loaded into before: anywhere else its
// invented facts would join real tenants' history for good. kInvalidArgument then, with nothing
// appended.
Result<DemoResult> LoadDemo(server::App& app);

// Whether `name` is one the demo gives its tokens. The demo revokes its earlier tokens by these
// names, so `token add` refuses them.
bool IsDemoTokenName(const std::string& name);

// Creates an operator token and a reviewer token for tenant acme, and prints them with curl
// lines that work against `base_url` (e.g. http://127.0.0.1:8080).
Status PrintDemoTokens(server::App& app, const std::string& base_url, std::ostream& out);

}  // namespace custody::cli
