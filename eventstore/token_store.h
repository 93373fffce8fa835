#pragma once

// API tokens, stored in the custody database as SHA-256 hashes only: the clear token is
// returned once by Add and never again.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/status.h"
#include "domain/time.h"

namespace custody::eventstore {

// Whether `id` has the form of a token's public id: "tok_" and 8 lower-case hex digits.
bool IsTokenId(std::string_view id);

struct Token {
  std::string id;      // public identifier, e.g. "tok_3f9a..."; safe to print
  std::string role;    // "operator", "writer" or "reviewer"
  std::string tenant;  // empty: every tenant (operator, or a reviewer made so)
  std::string name;
  TimeMs created_at = 0;
  std::optional<TimeMs> revoked_at;
};

// Thread-safe. Works while another process (the server) has the same file open.
class TokenStore {
 public:
  // Opens (and creates the tokens table in) the custody database at `path`.
  static Result<std::unique_ptr<TokenStore>> Open(const std::string& path);
  ~TokenStore();

  // Creates a token with at least 128 random bits. Returns it with its secret, the only time
  // the secret is ever available. role must be operator, writer or reviewer; a writer needs a
  // tenant.
  Result<std::pair<Token, std::string>> Add(const std::string& role, const std::string& tenant,
                                            const std::string& name, TimeMs now);
  Result<std::vector<Token>> List() const;
  // kNotFound when no token has this id; kConflict when it was revoked already (the first
  // revocation's time is kept).
  Status Revoke(const std::string& id, TimeMs now);
  // The live token whose secret this is; nullopt for unknown or revoked ones. Compares hashes
  // in constant time.
  Result<std::optional<Token>> Authenticate(const std::string& secret) const;
  // Whether the token with this id exists and is not revoked.
  Result<bool> IsLive(const std::string& id) const;

  class Impl;

 private:
  explicit TokenStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custody::eventstore
