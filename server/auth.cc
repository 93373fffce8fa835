#include "server/auth.h"

#include <cctype>

namespace custody::server {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<Role> RoleFromName(std::string_view name) {
  if (name == "operator") return Role::kOperator;
  if (name == "writer") return Role::kWriter;
  if (name == "reviewer") return Role::kReviewer;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() + 1) return std::nullopt;
  if (!IEquals(authorization.substr(0, kScheme.size()), kScheme)) return std::nullopt;
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  if (rest.empty() || rest.find(' ') != std::string_view::npos) return std::nullopt;
  return std::string(rest);
}

Result<std::optional<Principal>> Authenticate(const eventstore::TokenStore& tokens,
                                              std::string_view authorization) {
  const std::optional<std::string> secret = BearerToken(authorization);
  if (!secret) return std::optional<Principal>();
  auto token = tokens.Authenticate(*secret);
  if (!token.ok()) return token.status();
  if (!token->has_value()) return std::optional<Principal>();
  const eventstore::Token& found = **token;
  const std::optional<Role> role = RoleFromName(found.role);
  if (!role) return std::optional<Principal>();  // a role this version does not know: no rights
  return std::optional<Principal>(Principal{found.id, found.name, *role, found.tenant});
}

bool RoleAllows(const Principal& principal, Action action) {
  switch (principal.role) {
    case Role::kOperator:
      return true;
    case Role::kWriter:
      return action == Action::kCommand || action == Action::kStateQuery;
    case Role::kReviewer:
      return action == Action::kStateQuery || action == Action::kHistory;
  }
  return false;
}

bool TenantAllowed(const Principal& principal, std::string_view tenant) {
  // A writer is always bound to one tenant; the token store refuses one without.
  if (principal.role == Role::kWriter && principal.tenant.empty()) return false;
  return principal.tenant.empty() || principal.tenant == tenant;
}

}  // namespace custody::server
