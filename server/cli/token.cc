// custody token add | list | revoke: API tokens, stored hashed.

#include <iomanip>
#include <iostream>

#include "eventstore/token_store.h"
#include "server/app.h"
#include "server/cli/cli.h"

namespace custody::cli {
namespace {

namespace po = boost::program_options;

constexpr char kUsageLine[] =
    "custody token add --role operator|writer|reviewer [--tenant T] [--name N] [--db PATH]\n"
    "       custody token list [--db PATH]\n"
    "       custody token revoke ID [--db PATH]";

int Add(eventstore::TokenStore& tokens, const std::string& role, const std::string& tenant,
        const std::string& name) {
  auto added = tokens.Add(role, tenant, name, server::SystemNow());
  if (!added.ok()) {
    return Fail(added.status().code() == Status::Code::kInvalidArgument ? kUsage : kStorage,
                added.status().message());
  }
  const auto& [token, secret] = *added;
  std::cout << "token " << token.id << " (" << token.role
            << (token.tenant.empty() ? ", every tenant" : ", tenant " + token.tenant) << ")\n"
            << secret << "\n"
            << "Keep it now: custody stores only its hash and cannot show it again.\n";
  return kDone;
}

int List(const eventstore::TokenStore& tokens) {
  auto all = tokens.List();
  if (!all.ok()) return StorageFailure(all.status());
  std::cout << std::left << std::setw(16) << "ID" << std::setw(10) << "ROLE" << std::setw(16)
            << "TENANT" << std::setw(20) << "NAME" << std::setw(26) << "CREATED"
            << "REVOKED\n";
  for (const auto& token : *all) {
    std::cout << std::setw(16) << token.id << std::setw(10) << token.role << std::setw(16)
              << (token.tenant.empty() ? "*" : token.tenant) << std::setw(20)
              << (token.name.empty() ? "-" : token.name) << std::setw(26)
              << FormatTime(token.created_at)
              << (token.revoked_at ? FormatTime(*token.revoked_at) : "-") << "\n";
  }
  return kDone;
}

}  // namespace

int RunToken(const Args& args) {
  std::string db, action, id, role, tenant, name;
  po::options_description options("custody token");
  AddDbOption(options, &db);
  options.add_options()("action", po::value(&action)->required(), "add, list or revoke")(
      "id", po::value(&id), "the token to revoke")("role", po::value(&role)->value_name("R"),
                                                   "operator, writer or reviewer (add)")(
      "tenant", po::value(&tenant)->value_name("T"), "the token's tenant (add)")(
      "name", po::value(&name)->value_name("N"), "a name to recognise it by (add)");
  po::positional_options_description positionals;
  positionals.add("action", 1).add("id", 1);
  po::variables_map values;
  if (int code = Parse(args, kUsageLine, options, positionals, values); code >= 0) return code;

  if (action != "add" && action != "list" && action != "revoke") {
    return Fail(kUsage, "token takes add, list or revoke, not '" + action + "'");
  }
  if (action == "add" && role.empty()) return Fail(kUsage, "token add needs --role");
  if (action == "revoke" && id.empty()) return Fail(kUsage, "token revoke needs the token's ID");

  auto tokens = eventstore::TokenStore::Open(ResolveDb(db));
  if (!tokens.ok()) return StorageFailure(tokens.status());
  if (action == "add") return Add(**tokens, role, tenant, name);
  if (action == "list") return List(**tokens);
  const Status revoked = (*tokens)->Revoke(id, server::SystemNow());
  if (revoked.code() == Status::Code::kNotFound) return Fail(kUsage, revoked.message());
  if (!revoked.ok()) return StorageFailure(revoked);
  std::cout << "revoked " << id << "\n";
  return kDone;
}

}  // namespace custody::cli
