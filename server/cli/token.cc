// custody token add | list | revoke: API tokens, stored hashed.

#include <algorithm>
#include <array>
#include <filesystem>
#include <iostream>
#include <vector>

#include "eventstore/token_store.h"
#include "server/app.h"
#include "server/cli/cli.h"
#include "server/cli/demo_stories.h"

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
  // The secret alone on standard output (TOKEN=$(custody token add ...)), the rest on stderr.
  std::cout << secret << "\n" << std::flush;
  if (!std::cout) {
    // Nobody saw the secret: a token nobody can use or recognise is revoked at once.
    const Status revoked = tokens.Revoke(token.id, server::SystemNow());
    return Fail(kStorage, "cannot write the token to standard output; " + token.id +
                              (revoked.ok() ? " was revoked"
                                            : " could not be revoked: " + revoked.ToString()));
  }
  std::cerr << "token " << token.id << " (" << token.role
            << (token.tenant.empty() ? ", every tenant" : ", tenant " + token.tenant)
            << "): keep it now, custody stores only its hash and cannot show it again.\n";
  return kDone;
}

int List(const eventstore::TokenStore& tokens) {
  auto all = tokens.List();
  if (!all.ok()) return StorageFailure(all.status());
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows = {{"ID", "ROLE", "TENANT", "NAME", "CREATED", "REVOKED"}};
  for (const auto& token : *all) {
    rows.push_back({token.id, token.role, token.tenant.empty() ? "*" : token.tenant,
                    token.name.empty() ? "-" : token.name, FormatTime(token.created_at),
                    token.revoked_at ? FormatTime(*token.revoked_at) : "-"});
  }
  // Each column as wide as its longest cell, two spaces apart: names are free-form UTF-8, so
  // a cell's width is its count of characters (code points), not of bytes.
  auto width = [](const std::string& cell) {
    return static_cast<std::size_t>(std::count_if(cell.begin(), cell.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
  };
  Row::size_type columns = rows.front().size();
  std::vector<std::size_t> widths(columns, 0);
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < columns; ++c) widths[c] = std::max(widths[c], width(row[c]));
  }
  for (const Row& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < columns; ++c) {
      line += row[c];
      if (c + 1 < columns) line.append(widths[c] + 2 - width(row[c]), ' ');
    }
    std::cout << line << "\n";
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
  // Nothing given is silently dropped: a name with a space left unquoted would otherwise
  // become its first word.
  if (action != "revoke" && !id.empty()) {
    return Fail(kUsage, "token " + action + " takes no argument '" + id +
                            "' (quote a name with spaces: --name 'my auditor')");
  }
  if (action != "add" && (values.count("role") || values.count("tenant") || values.count("name"))) {
    return Fail(kUsage, "--role, --tenant and --name are for token add");
  }
  // An unset shell variable must not turn a one-tenant token into an every-tenant one.
  if (values.count("tenant") && tenant.empty()) {
    return Fail(kUsage, "--tenant needs a tenant id; leave it out for a token of every tenant");
  }
  if (IsDemoTokenName(name)) {
    return Fail(kUsage, "'" + name + "' names the demo's tokens, which the demo revokes; pick " +
                            "another name");
  }
  // Only add may create the database (the first step of a set-up); listing or revoking in a
  // file that is not there is a mistaken path.
  const std::string path = ResolveDb(db);
  if (action != "add" && !std::filesystem::exists(path)) {
    return Fail(kStorage, "no database at '" + path + "'");
  }

  auto tokens = eventstore::TokenStore::Open(path);
  if (!tokens.ok()) return StorageFailure(tokens.status());
  if (action == "add") return Add(**tokens, role, tenant, name);
  if (action == "list") return List(**tokens);
  const Status revoked = (*tokens)->Revoke(id, server::SystemNow());
  if (revoked.code() == Status::Code::kNotFound) return Fail(kUsage, revoked.message());
  if (revoked.code() == Status::Code::kConflict) {
    std::cout << id << " was already revoked\n";  // the first revocation's time is kept
    return kDone;
  }
  if (!revoked.ok()) return StorageFailure(revoked);
  std::cout << "revoked " << id << "\n";
  return kDone;
}

}  // namespace custody::cli
