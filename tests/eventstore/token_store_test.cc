#include "eventstore/token_store.h"

#include <gtest/gtest.h>

#include "eventstore/event_store.h"
#include "tests/eventstore/test_util.h"

namespace custody::eventstore {
namespace {

using testing::AppendOne;
using testing::MakeEvent;
using testing::OpenStore;
using testing::RawDb;
using testing::ReadFile;
using testing::TempDir;

std::unique_ptr<TokenStore> OpenTokens(const std::string& path) {
  Result<std::unique_ptr<TokenStore>> tokens = TokenStore::Open(path);
  EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
  return tokens.ok() ? std::move(tokens).value() : nullptr;
}

TEST(TokenStore, AddReturnsSecretOnceAndAuthenticates) {
  TempDir dir;
  auto tokens = OpenTokens(dir.File("log.db"));
  Result<std::pair<Token, std::string>> added = tokens->Add("writer", "acme", "ci", 1000);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  const auto& [token, secret] = *added;
  EXPECT_TRUE(testing::MatchesHexPattern(token.id, "tok_hhhhhhhh")) << token.id;
  EXPECT_TRUE(testing::MatchesHexPattern(secret, "cst_" + std::string(64, 'h'))) << secret;
  EXPECT_EQ(token.role, "writer");
  EXPECT_EQ(token.tenant, "acme");
  EXPECT_EQ(token.name, "ci");
  EXPECT_EQ(token.created_at, 1000);
  EXPECT_FALSE(token.revoked_at.has_value());

  Result<std::optional<Token>> found = tokens->Authenticate(secret);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, token.id);
  EXPECT_EQ((*found)->tenant, "acme");

  EXPECT_FALSE(tokens->Authenticate(secret + "0")->has_value());
  EXPECT_FALSE(tokens->Authenticate("cst_" + std::string(64, '0'))->has_value());
  EXPECT_FALSE(tokens->Authenticate("")->has_value());
}

TEST(TokenStore, EveryTokenIsDifferent) {
  TempDir dir;
  auto tokens = OpenTokens(dir.File("log.db"));
  auto first = tokens->Add("operator", "", "a", 1);
  auto second = tokens->Add("operator", "", "a", 1);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->first.id, second->first.id);
  EXPECT_NE(first->second, second->second);
}

TEST(TokenStore, RolesAreValidated) {
  TempDir dir;
  auto tokens = OpenTokens(dir.File("log.db"));
  EXPECT_TRUE(tokens->Add("operator", "", "", 1).ok());
  EXPECT_EQ(tokens->Add("operator", "acme", "", 1).status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(tokens->Add("writer", "acme", "", 1).ok());
  EXPECT_EQ(tokens->Add("writer", "", "", 1).status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(tokens->Add("reviewer", "", "all tenants", 1).ok());
  EXPECT_TRUE(tokens->Add("reviewer", "acme", "one tenant", 1).ok());
  EXPECT_EQ(tokens->Add("admin", "", "", 1).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(tokens->List()->size(), 4u);
}

TEST(TokenStore, ListShowsTokensWithoutSecrets) {
  TempDir dir;
  auto tokens = OpenTokens(dir.File("log.db"));
  auto first = tokens->Add("operator", "", "ops", 10);
  auto second = tokens->Add("reviewer", "acme", "audit", 20);
  ASSERT_TRUE(first.ok() && second.ok());
  Result<std::vector<Token>> list = tokens->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, first->first.id);
  EXPECT_EQ((*list)[0].name, "ops");
  EXPECT_EQ((*list)[1].id, second->first.id);
  EXPECT_EQ((*list)[1].role, "reviewer");
  EXPECT_EQ((*list)[1].tenant, "acme");
  EXPECT_EQ((*list)[1].created_at, 20);
}

TEST(TokenStore, RevokedTokenNoLongerAuthenticates) {
  TempDir dir;
  auto tokens = OpenTokens(dir.File("log.db"));
  auto keep = tokens->Add("writer", "acme", "keep", 1);
  auto drop = tokens->Add("writer", "acme", "drop", 1);
  ASSERT_TRUE(keep.ok() && drop.ok());
  ASSERT_TRUE(tokens->Revoke(drop->first.id, 500).ok());
  EXPECT_FALSE(tokens->Authenticate(drop->second)->has_value());
  EXPECT_TRUE(tokens->Authenticate(keep->second)->has_value());
  EXPECT_EQ(tokens->Revoke(drop->first.id, 900).code(), Status::Code::kConflict)
      << "revoking twice says so and keeps the first time";
  const std::vector<Token> list = *tokens->List();
  ASSERT_EQ(list.size(), 2u);
  for (const Token& token : list) {
    if (token.id == drop->first.id) {
      EXPECT_EQ(token.revoked_at, 500) << "the first revocation time stays";
    } else {
      EXPECT_FALSE(token.revoked_at.has_value());
    }
  }
  EXPECT_EQ(tokens->Revoke("tok_00000000", 1).code(), Status::Code::kNotFound);
}

TEST(TokenStore, FileHoldsOnlyHashesOfSecrets) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  std::string secret;
  {
    auto tokens = OpenTokens(path);
    secret = tokens->Add("operator", "", "ops", 1)->second;
  }
  RawDb raw(path);
  const std::vector<std::string> hashes = raw.Column("SELECT hex(secret_hash) FROM tokens");
  ASSERT_EQ(hashes.size(), 1u);
  EXPECT_EQ(hashes[0].size(), 64u);
  EXPECT_EQ(raw.Column("SELECT count(*) FROM tokens WHERE instr(id || role || tenant || name, '" +
                       secret.substr(4) + "') > 0"),
            std::vector<std::string>{"0"});
  EXPECT_EQ(ReadFile(path).find(secret.substr(4)), std::string::npos);
}

TEST(TokenStore, WorksWhileTheEventStoreHasTheFileOpen) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  auto store = OpenStore(path);
  AppendOne(*store, "t", "t/s", MakeEvent("a", "x"));
  auto tokens = OpenTokens(path);
  ASSERT_NE(tokens, nullptr);
  auto added = tokens->Add("writer", "t", "", 1);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  AppendOne(*store, "t", "t/s", MakeEvent("b", "x"));
  ASSERT_TRUE(tokens->Revoke(added->first.id, 2).ok());
  EXPECT_FALSE(tokens->Authenticate(added->second)->has_value());
  EXPECT_EQ(store->HeadPosition(), 2);
  EXPECT_TRUE(store->Verify()->ok);
}

// `custody token list` or `add` beside a server of an older version must not upgrade the file
// under it: the tokens table is the same in every schema version.
TEST(TokenStore, LeavesAnOlderFilesSchemaAsItIs) {
  TempDir dir;
  const std::string path = dir.File("custody.db");
  OpenStore(path).reset();
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("ALTER TABLE events DROP COLUMN source_token; PRAGMA user_version = 1"),
              SQLITE_OK);
  }
  auto tokens = TokenStore::Open(path);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  ASSERT_TRUE((*tokens)->Add("reviewer", "", "auditor", 1000).ok());
  EXPECT_EQ((*tokens)->List()->size(), 1u);
  tokens->reset();
  EXPECT_EQ(RawDb(path).Column("PRAGMA user_version"), std::vector<std::string>{"1"});
  // A writer of this version upgrades it, and the token is still there.
  OpenStore(path).reset();
  EXPECT_EQ(RawDb(path).Column("PRAGMA user_version"), std::vector<std::string>{"2"});
  EXPECT_EQ((*TokenStore::Open(path))->List()->size(), 1u);
}

TEST(TokenStore, IdsHaveOneForm) {
  TempDir dir;
  auto tokens = TokenStore::Open(dir.File("custody.db"));
  ASSERT_TRUE(tokens.ok());
  for (int i = 0; i < 20; ++i) {
    auto added = (*tokens)->Add("reviewer", "", "t" + std::to_string(i), 1000);
    ASSERT_TRUE(added.ok());
    EXPECT_TRUE(IsTokenId(added->first.id)) << added->first.id;
  }
  EXPECT_TRUE(IsTokenId("tok_0123abcd"));
  for (const char* id : {"", "tok_", "tok_0123ABCD", "tok_0123abc", "tok_0123abcde", "cst_0123abcd",
                         "tok 0123abcd"}) {
    EXPECT_FALSE(IsTokenId(id)) << id;
  }
}

}  // namespace
}  // namespace custody::eventstore
