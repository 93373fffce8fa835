#pragma once

// Bearer tokens and what each role may do (API.md, "Who may do what").

#include <optional>
#include <string>
#include <string_view>

#include "domain/status.h"
#include "eventstore/token_store.h"

namespace custody::server {

enum class Role { kOperator, kWriter, kReviewer };

// Who is asking: the live token behind the request.
struct Principal {
  std::string token_id;
  std::string name;
  Role role = Role::kReviewer;
  std::string tenant;  // empty: every tenant
};

// What a route does, for the role check.
enum class Action {
  kCreateTenant,  // operator
  kCommand,       // operator, writer
  kStateQuery,    // operator, writer, reviewer
  kHistory,       // operator, reviewer: history, export, live tail, integrity
};

// The token of an "Authorization: Bearer TOKEN" header; nullopt when missing or malformed.
std::optional<std::string> BearerToken(std::string_view authorization);

// The principal of a header; nullopt for a missing, malformed, unknown or revoked token.
// Errors are storage failures.
Result<std::optional<Principal>> Authenticate(const eventstore::TokenStore& tokens,
                                              std::string_view authorization);

// Whether the role may do `action` at all.
bool RoleAllows(const Principal& principal, Action action);

// Whether the principal may see or change `tenant`.
bool TenantAllowed(const Principal& principal, std::string_view tenant);

}  // namespace custody::server
