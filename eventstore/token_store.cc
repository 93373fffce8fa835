#include "eventstore/token_store.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <mutex>
#include <string_view>

#include "domain/command_codec.h"
#include "domain/utf8.h"
#include "eventstore/encoding.h"
#include "eventstore/random.h"
#include "eventstore/schema.h"
#include "eventstore/sqlite.h"

namespace custody::eventstore {
namespace {

constexpr char kSecretPrefix[] = "cst_";
constexpr std::size_t kSecretBytes = 32;  // 256 random bits
constexpr std::size_t kIdBytes = 4;
constexpr int kIdAttempts = 8;  // ids are short: retry the rare collision

constexpr char kColumns[] = "id, role, tenant, name, created_at, revoked_at";

Token ReadToken(const Statement& s) {
  Token token;
  token.id = s.ColumnString(0);
  token.role = s.ColumnString(1);
  token.tenant = s.ColumnString(2);
  token.name = s.ColumnString(3);
  token.created_at = s.ColumnInt64(4);
  if (!s.ColumnIsNull(5)) token.revoked_at = s.ColumnInt64(5);
  return token;
}

Status CheckRole(const std::string& role, const std::string& tenant) {
  if (role == "operator") {
    if (!tenant.empty()) return Status::InvalidArgument("an operator token has no tenant");
  } else if (role == "writer") {
    if (tenant.empty()) return Status::InvalidArgument("a writer token needs a tenant");
  } else if (role != "reviewer") {
    return Status::InvalidArgument("role must be operator, writer or reviewer, not '" + role + "'");
  }
  if (!tenant.empty()) {
    if (std::string problem = TenantIdProblem(tenant); !problem.empty()) {
      return Status::InvalidArgument(std::move(problem));
    }
  }
  return Status::Ok();
}

// A name is shown in `token list`, one token per line, and in the access log.
Status CheckName(const std::string& name) {
  constexpr std::size_t kMaxName = 200;
  if (name.size() > kMaxName) {
    return Status::InvalidArgument("a token name has at most " + std::to_string(kMaxName) +
                                   " bytes");
  }
  if (!IsValidUtf8(name)) return Status::InvalidArgument("a token name must be UTF-8 text");
  if (HasControlCharacter(name)) {
    return Status::InvalidArgument(
        "a token name is one line of text, without control characters nor characters that hide "
        "or reorder text");
  }
  return Status::Ok();
}

}  // namespace

// One connection, used under a mutex: token operations are rare and quick.
class TokenStore::Impl {
 public:
  explicit Impl(std::unique_ptr<Database> db) : db(std::move(db)) {}
  std::mutex mutex;
  std::unique_ptr<Database> db;
};

TokenStore::TokenStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TokenStore::~TokenStore() = default;

bool IsTokenId(std::string_view id) {
  constexpr std::string_view kPrefix = "tok_";
  if (id.size() != kPrefix.size() + 2 * kIdBytes || !id.starts_with(kPrefix)) return false;
  return std::all_of(id.begin() + kPrefix.size(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::unique_ptr<TokenStore>> TokenStore::Open(const std::string& path) {
  Result<std::unique_ptr<Database>> db =
      OpenCustodyDatabase(path, OpenOptions{Database::Mode::kReadWrite, true, {}, false});
  if (!db.ok()) return db.status();
  return std::unique_ptr<TokenStore>(new TokenStore(std::make_unique<Impl>(std::move(db).value())));
}

Result<std::pair<Token, std::string>> TokenStore::Add(const std::string& role,
                                                      const std::string& tenant,
                                                      const std::string& name, TimeMs now) {
  if (Status status = CheckRole(role, tenant); !status.ok()) return status;
  if (Status status = CheckName(name); !status.ok()) return status;
  Result<std::string> random = RandomHex(kSecretBytes);
  if (!random.ok()) return random.status();
  const std::string secret = kSecretPrefix + *random;
  Digest hash;
  if (!Sha256(secret, &hash)) return Status::IOError("SHA-256 failed");

  std::lock_guard lock(impl_->mutex);
  for (int attempt = 0;; ++attempt) {
    Result<std::string> id = RandomHex(kIdBytes);
    if (!id.ok()) return id.status();
    Token token;
    token.id = "tok_" + *id;
    token.role = role;
    token.tenant = tenant;
    token.name = name;
    token.created_at = now;
    Statement s = impl_->db->GetCachedStatement(
        "INSERT INTO tokens (id, role, tenant, name, secret_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    s.BindText(0, token.id);
    s.BindText(1, role);
    s.BindText(2, tenant);
    s.BindText(3, name);
    s.BindBlob(4, hash.data(), hash.size());
    s.BindInt64(5, now);
    Status status = s.Run();
    if (status.ok()) return std::make_pair(std::move(token), secret);
    if (status.code() != Status::Code::kConflict || attempt + 1 == kIdAttempts) return status;
  }
}

Result<std::vector<Token>> TokenStore::List() const {
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->db->GetCachedStatement(std::string("SELECT ") + kColumns +
                                              " FROM tokens ORDER BY created_at, id");
  std::vector<Token> tokens;
  while (s.Step()) tokens.push_back(ReadToken(s));
  if (!s.Succeeded()) return s.status();
  return tokens;
}

Status TokenStore::Revoke(const std::string& id, TimeMs now) {
  std::lock_guard lock(impl_->mutex);
  Statement update = impl_->db->GetCachedStatement(
      "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
  update.BindInt64(0, now);
  update.BindText(1, id);
  if (Status status = update.Run(); !status.ok()) return status;
  if (impl_->db->Changes() > 0) return Status::Ok();
  // Nothing changed: either revoked already (the first time is kept) or unknown.
  Statement find = impl_->db->GetCachedStatement("SELECT 1 FROM tokens WHERE id = ?");
  find.BindText(0, id);
  if (find.Step()) return Status::Conflict("token '" + id + "' was already revoked");
  if (!find.Succeeded()) return find.status();
  return Status::NotFound("no token has id '" + id + "'");
}

Result<std::optional<Token>> TokenStore::Authenticate(const std::string& secret) const {
  Digest hash;
  if (!Sha256(secret, &hash)) return Status::IOError("SHA-256 failed");
  std::lock_guard lock(impl_->mutex);
  Statement s = impl_->db->GetCachedStatement(std::string("SELECT ") + kColumns +
                                              ", secret_hash FROM tokens WHERE secret_hash = ?");
  s.BindBlob(0, hash.data(), hash.size());
  if (!s.Step()) {
    if (!s.Succeeded()) return s.status();
    return std::optional<Token>();
  }
  // The index found the row; the comparison that decides is constant-time.
  const std::string_view stored = s.ColumnBlob(6);
  if (stored.size() != hash.size() || CRYPTO_memcmp(stored.data(), hash.data(), hash.size()) != 0) {
    return std::optional<Token>();
  }
  Token token = ReadToken(s);
  if (token.revoked_at) return std::optional<Token>();
  return std::optional<Token>(std::move(token));
}

Result<bool> TokenStore::IsLive(const std::string& id) const {
  std::lock_guard lock(impl_->mutex);
  Statement s =
      impl_->db->GetCachedStatement("SELECT 1 FROM tokens WHERE id = ? AND revoked_at IS NULL");
  s.BindText(0, id);
  const bool live = s.Step();
  if (!s.Succeeded()) return s.status();
  return live;
}

}  // namespace custody::eventstore
