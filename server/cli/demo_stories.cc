#include "server/cli/demo_stories.h"

#include <vector>

#include "domain/command_codec.h"

namespace custody::cli {
namespace {

struct Line {
  const char* tenant;
  const char* body;  // a command body exactly as a client would POST it
};

// Seed "connect a new admin to Marketo": alice owns the connection; bob holds access and is
// refused at Connect; alice revokes, bob connects, alice disconnects, alice is removed.
// Seed "MSI Actions onboarding": carol (Gmail) and dave (Outlook) finish; erin lacks API
// Enabled; frank's e-mails differ; grace stops part-way. globex: the last admin disconnects
// and the users holding access are cut off.
const std::vector<Line>& Stories() {
  static const std::vector<Line> kLines = {
      {"acme", R"({"tenant":"acme","admin":"alice","email":"alice@acme.example"})"},
      {"acme",
       R"({"command":"invite_member","actor":"alice","member":"bob","email":"bob@acme.example","role":"admin"})"},
      {"acme",
       R"({"command":"invite_member","actor":"alice","member":"carol","email":"carol@acme.example","role":"user"})"},
      {"acme",
       R"({"command":"invite_member","actor":"alice","member":"dave","email":"dave@acme.example","role":"user"})"},
      {"acme",
       R"({"command":"invite_member","actor":"alice","member":"erin","email":"erin@acme.example","role":"user"})"},
      {"acme",
       R"({"command":"invite_member","actor":"alice","member":"frank","email":"frank@acme.example","role":"user"})"},
      {"acme",
       R"({"command":"invite_member","actor":"alice","member":"grace","email":"grace@acme.example","role":"user"})"},
      {"acme", R"({"command":"connect_marketo","actor":"alice"})"},
      {"acme", R"({"command":"grant_marketo_access","actor":"alice","member":"bob"})"},
      {"acme", R"({"command":"grant_marketo_access","actor":"alice","member":"carol"})"},
      {"acme", R"({"command":"grant_marketo_access","actor":"alice","member":"dave"})"},
      {"acme", R"({"command":"connect_marketo","actor":"bob"})"},
      {"acme", R"({"command":"remove_member","actor":"bob","member":"alice"})"},
      {"acme", R"({"command":"revoke_marketo_access","actor":"alice","member":"bob"})"},
      {"acme", R"({"command":"connect_marketo","actor":"bob"})"},
      {"acme", R"({"command":"disconnect_marketo","actor":"alice"})"},
      {"acme", R"({"command":"remove_member","actor":"bob","member":"alice"})"},
      // carol: Gmail, start to finish.
      {"acme", R"({"command":"onboarding_step","actor":"carol","step":"get_started"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"carol","step":"activate_with_salesforce","api_enabled":true})"},
      {"acme", R"({"command":"onboarding_step","actor":"carol","step":"salesforce_login"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"carol","step":"salesforce_allow","sales_email":"carol@acme.example","salesforce_email":"Carol@Acme.example"})"},
      {"acme", R"({"command":"onboarding_step","actor":"carol","step":"start"})"},
      {"acme", R"({"command":"onboarding_step","actor":"carol","step":"next"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"carol","step":"choose_email_client","client":"gmail"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"carol","step":"enter_email","email":"carol@acme.example"})"},
      {"acme", R"({"command":"onboarding_step","actor":"carol","step":"enter_password"})"},
      {"acme", R"({"command":"onboarding_step","actor":"carol","step":"continue"})"},
      {"acme", R"({"command":"onboarding_step","actor":"carol","step":"email_connected"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"carol","step":"signature","skipped":false})"},
      {"acme", R"({"command":"onboarding_step","actor":"carol","step":"finish"})"},
      {"acme", R"({"command":"onboarding_step","actor":"carol","step":"tour","choice":"viewed"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"carol","step":"launch","target":"salesforce_lightning"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"carol","step":"msi_panel_opened","record":"lead"})"},
      // dave: Outlook, with Outlook's own sign-in, skipping the signature and the tour.
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"get_started"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"dave","step":"activate_with_salesforce","api_enabled":true})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"salesforce_login"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"dave","step":"salesforce_allow","sales_email":"dave@acme.example","salesforce_email":"dave@acme.example"})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"start"})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"next"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"dave","step":"choose_email_client","client":"outlook"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"dave","step":"enter_email","email":"dave@acme.example"})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"enter_password"})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"continue"})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"outlook_authenticated"})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"email_connected"})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"signature","skipped":true})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"finish"})"},
      {"acme", R"({"command":"onboarding_step","actor":"dave","step":"tour","choice":"not_now"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"dave","step":"launch","target":"web_app"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"dave","step":"msi_panel_opened","record":"opportunity"})"},
      // erin: her Salesforce profile lacks API Enabled.
      {"acme", R"({"command":"onboarding_step","actor":"erin","step":"get_started"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"erin","step":"activate_with_salesforce","api_enabled":false})"},
      // frank: his sales e-mail and Salesforce e-mail differ.
      {"acme", R"({"command":"onboarding_step","actor":"frank","step":"get_started"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"frank","step":"activate_with_salesforce","api_enabled":true})"},
      {"acme", R"({"command":"onboarding_step","actor":"frank","step":"salesforce_login"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"frank","step":"salesforce_allow","sales_email":"frank@acme.example","salesforce_email":"f.miller@acme-corp.example"})"},
      // grace: stopped after entering her e-mail address.
      {"acme", R"({"command":"onboarding_step","actor":"grace","step":"get_started"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"grace","step":"activate_with_salesforce","api_enabled":true})"},
      {"acme", R"({"command":"onboarding_step","actor":"grace","step":"salesforce_login"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"grace","step":"salesforce_allow","sales_email":"grace@acme.example","salesforce_email":"grace@acme.example"})"},
      {"acme", R"({"command":"onboarding_step","actor":"grace","step":"start"})"},
      {"acme", R"({"command":"onboarding_step","actor":"grace","step":"next"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"grace","step":"choose_email_client","client":"gmail"})"},
      {"acme",
       R"({"command":"onboarding_step","actor":"grace","step":"enter_email","email":"grace@acme.example"})"},
      // globex: gina is the only connected admin; when she disconnects, hank and ivy are cut off.
      {"globex", R"({"tenant":"globex","admin":"gina","email":"gina@globex.example"})"},
      {"globex",
       R"({"command":"invite_member","actor":"gina","member":"hank","email":"hank@globex.example","role":"user"})"},
      {"globex",
       R"({"command":"invite_member","actor":"gina","member":"ivy","email":"ivy@globex.example","role":"user"})"},
      {"globex", R"({"command":"connect_marketo","actor":"gina"})"},
      {"globex", R"({"command":"grant_marketo_access","actor":"gina","member":"hank"})"},
      {"globex", R"({"command":"grant_marketo_access","actor":"gina","member":"ivy"})"},
      {"globex", R"({"command":"disconnect_marketo","actor":"gina"})"},
  };
  return kLines;
}

constexpr char kDemoActor[] = "demo";

std::string DemoCommandId(int number) { return "demo-" + std::to_string(number); }

}  // namespace

Result<DemoResult> LoadDemo(server::App& app) {
  if (app.store->HeadPosition() > 0) {
    // The demo's first command is the first thing it ever records.
    auto first = app.store->FindByCommandId(Stories().front().tenant, DemoCommandId(1));
    if (!first.ok()) return first.status();
    if (first->empty()) {
      return Status::InvalidArgument(
          app.path +
          " already holds history that is not the demo's: the demo loads only into an empty "
          "database (or one it was loaded into before), so that its invented facts never join "
          "real tenants' history");
    }
  }
  DemoResult result;
  const Source source{"", "custody-demo", ""};
  int number = 0;
  for (const Line& line : Stories()) {
    const std::string command_id = DemoCommandId(++number);
    std::string body(line.body);
    body.insert(1, "\"command_id\":\"" + command_id + "\",");
    Result<projections::CommandReply> reply = Status::InvalidArgument("not decoded");
    if (body.find("\"command\":") == std::string::npos) {
      auto decoded = DecodeCreateTenant(body);
      if (auto* error = std::get_if<DecodeError>(&decoded)) {
        return Status::InvalidArgument("demo line " + std::to_string(number) + ": " +
                                       error->message);
      }
      reply =
          app.commands->CreateTenant(std::get<DecodedCreateTenant>(decoded), kDemoActor, source);
    } else {
      auto decoded = DecodeCommand(body);
      if (auto* error = std::get_if<DecodeError>(&decoded)) {
        return Status::InvalidArgument("demo line " + std::to_string(number) + ": " +
                                       error->message);
      }
      reply = app.commands->Execute(line.tenant, std::get<DecodedCommand>(decoded), source);
    }
    if (!reply.ok()) return reply.status();
    if (reply->duplicate) {
      ++result.repeated;
    } else if (reply->kind == projections::CommandReply::Kind::kRejected) {
      ++result.refused;
    } else if (reply->kind == projections::CommandReply::Kind::kRecorded) {
      ++result.recorded;
    } else {
      return Status::Conflict("demo line " + std::to_string(number) + " could not be recorded");
    }
  }
  return result;
}

// The names of the demo's tokens, by which a later demo run finds and revokes them.
constexpr char kDemoOperator[] = "demo operator";
constexpr char kDemoReviewer[] = "demo reviewer of acme";

bool IsDemoTokenName(const std::string& name) {
  return name == kDemoOperator || name == kDemoReviewer;
}

Status PrintDemoTokens(server::App& app, const std::string& base_url, std::ostream& out) {
  const TimeMs now = server::SystemNow();
  // The demo's earlier tokens are revoked, so that a demo served again leaves one live pair,
  // not one more pair of full-power tokens nobody holds any more.
  auto existing = app.tokens->List();
  if (!existing.ok()) return existing.status();
  for (const eventstore::Token& token : *existing) {
    if (token.revoked_at || !IsDemoTokenName(token.name)) continue;
    if (Status revoked = app.tokens->Revoke(token.id, now); !revoked.ok()) return revoked;
  }
  auto operator_token = app.tokens->Add("operator", "", kDemoOperator, now);
  if (!operator_token.ok()) return operator_token.status();
  auto reviewer_token = app.tokens->Add("reviewer", "acme", kDemoReviewer, now);
  if (!reviewer_token.ok()) return reviewer_token.status();
  const std::string& op = operator_token->second;
  const std::string& reviewer = reviewer_token->second;
  out << "Tokens (shown once; custody keeps only their hashes):\n"
      << "  operator:         " << op << "\n"
      << "  reviewer of acme: " << reviewer << "\n\n"
      << "Try:\n"
      << "  export OP=" << op << "\n"
      << "  export REVIEWER=" << reviewer << "\n"
      << "  curl -s -H \"Authorization: Bearer $REVIEWER\" " << base_url
      << "/v1/tenants/acme/marketo\n"
      << "  curl -s -H \"Authorization: Bearer $REVIEWER\" " << base_url
      << "/v1/tenants/acme/marketo/custody\n"
      << "  curl -s -H \"Authorization: Bearer $OP\" " << base_url
      << "/v1/tenants/globex/marketo/custody\n"
      << "  curl -s -H \"Authorization: Bearer $REVIEWER\" " << base_url
      << "/v1/tenants/acme/onboarding\n"
      << "  curl -s -H \"Authorization: Bearer $REVIEWER\" \"" << base_url
      << "/v1/events?tenant=acme&type=command.rejected\"\n"
      << "  curl -s -H \"Authorization: Bearer $OP\" -H 'Content-Type: application/json' \\\n"
      << "       -d '{\"command\":\"invite_member\",\"actor\":\"bob\",\"member\":\"zoe\","
         "\"email\":\"zoe@acme.example\",\"role\":\"admin\"}' "
      << base_url << "/v1/tenants/acme/commands\n"
      << "  curl -s -H \"Authorization: Bearer $REVIEWER\" " << base_url << "/v1/integrity\n";
  // Nobody saw them: full-power tokens nobody holds are revoked at once, as token add does.
  if (!out.flush()) {
    const Status revoked_operator = app.tokens->Revoke(operator_token->first.id, now);
    const Status revoked_reviewer = app.tokens->Revoke(reviewer_token->first.id, now);
    return Status::IOError("cannot write the demo tokens to standard output; " +
                           std::string(revoked_operator.ok() && revoked_reviewer.ok()
                                           ? "they were revoked"
                                           : "revoke them with token revoke"));
  }
  return Status::Ok();
}

}  // namespace custody::cli
