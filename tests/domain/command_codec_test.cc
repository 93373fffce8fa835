// DecodeCommand and DecodeCreateTenant: JSON bodies to typed commands, and the 400-style codes.

#include "domain/command_codec.h"

#include <gtest/gtest.h>

#include <string>

namespace custody {
namespace {

// The error of decoding `body`, or an error with code "none" if it decoded.
DecodeError ErrorOf(const std::string& body) {
  const auto decoded = DecodeCommand(body);
  if (const auto* error = std::get_if<DecodeError>(&decoded)) return *error;
  return DecodeError{"none", "", ""};
}

// The decoded command of `body`; fails the test if it did not decode.
DecodedCommand Decoded(const std::string& body) {
  const auto decoded = DecodeCommand(body);
  const auto* error = std::get_if<DecodeError>(&decoded);
  EXPECT_EQ(error, nullptr) << body << ": " << (error ? error->code + " " + error->message : "");
  return error ? DecodedCommand{} : std::get<DecodedCommand>(decoded);
}

// `fields` added to an otherwise valid onboarding step body of `step`.
std::string StepBody(const std::string& step, const std::string& fields = "") {
  return R"({"command":"onboarding_step","actor":"carol","step":")" + step + "\"" +
         (fields.empty() ? "" : "," + fields) + "}";
}

TEST(CommandCodec, DecodesEveryInstanceCommand) {
  const auto invite = Decoded(
      R"({"command":"invite_member","actor":"alice","member":"bob","email":"bob@acme.test","role":"admin"})");
  EXPECT_EQ(invite.command.actor, "alice");
  const auto& body = std::get<commands::InviteMember>(invite.command.body);
  EXPECT_EQ(body.member, "bob");
  EXPECT_EQ(body.email, "bob@acme.test");
  EXPECT_EQ(body.role, "admin");

  EXPECT_EQ(std::get<commands::RemoveMember>(
                Decoded(R"({"command":"remove_member","actor":"a","member":"b"})").command.body)
                .member,
            "b");
  EXPECT_TRUE(std::holds_alternative<commands::ConnectMarketo>(
      Decoded(R"({"command":"connect_marketo","actor":"a"})").command.body));
  EXPECT_TRUE(std::holds_alternative<commands::DisconnectMarketo>(
      Decoded(R"({"command":"disconnect_marketo","actor":"a"})").command.body));
  EXPECT_EQ(
      std::get<commands::GrantMarketoAccess>(
          Decoded(R"({"command":"grant_marketo_access","actor":"a","member":"c"})").command.body)
          .member,
      "c");
  EXPECT_EQ(
      std::get<commands::RevokeMarketoAccess>(
          Decoded(R"({"command":"revoke_marketo_access","actor":"a","member":"c"})").command.body)
          .member,
      "c");
}

TEST(CommandCodec, ReadsTheOptionsEveryCommandMayCarry) {
  const auto decoded = Decoded(
      R"({"command":"connect_marketo","actor":"a","command_id":"c-1","correlation_id":"k-9",)"
      R"("occurred_at":"2026-11-21T10:00:00.000Z","expected_version":7})");
  EXPECT_EQ(decoded.options.command_id, "c-1");
  EXPECT_EQ(decoded.options.correlation_id, "k-9");
  EXPECT_EQ(decoded.options.occurred_at, 1795255200000);
  EXPECT_EQ(decoded.options.expected_version, 7);
  const auto bare = Decoded(R"({"command":"connect_marketo","actor":"a"})");
  EXPECT_TRUE(bare.options.command_id.empty());
  EXPECT_EQ(bare.options.occurred_at, std::nullopt);
  EXPECT_EQ(bare.options.expected_version, std::nullopt);
}

TEST(CommandCodec, RefusesAPasswordAnywhereInTheBody) {
  for (const std::string& body : {
           StepBody("enter_password", R"("password":"hunter2")"),
           StepBody("enter_password", R"("Password":"hunter2")"),
           StepBody("enter_password", R"("user_password":"hunter2")"),
           StepBody("enter_password", R"("PASSWD":"hunter2")"),
           StepBody("enter_password", R"("extra":{"deep":[{"x":1},{"NewPassword":"h"}]})"),
           std::string(R"({"password":"h"})"),
           std::string(R"({"command":"nope","pass\u0077ord":"h"})"),
           std::string(
               R"({"command":"invite_member","actor":"alice","member":"bob",)"
               R"("email":"bob@acme.test","role":"admin","meta":{"a":{"b":{"password":1}}}})"),
       }) {
    const DecodeError error = ErrorOf(body);
    EXPECT_EQ(error.code, "secret_not_allowed") << body;
    EXPECT_NE(error.message.find("never records a password"), std::string::npos) << body;
  }
  EXPECT_EQ(ErrorOf(StepBody("enter_password", R"("user_password":"x")")).field, "user_password");
  // The word as a value is not a secret: only keys are.
  EXPECT_EQ(ErrorOf(StepBody("enter_password", R"("note":"password")")).code, "invalid_field");
  EXPECT_EQ(ErrorOf(StepBody("enter_password")).code, "none");
}

TEST(CommandCodec, RefusesInvalidJson) {
  for (const char* body : {"", "{", "not json", R"({"command":"connect_marketo",})", "[1,2]",
                           "\"text\"", "42", "null"}) {
    EXPECT_EQ(ErrorOf(body).code, "invalid_json") << body;
  }
  std::string deep(100, '[');
  deep = R"({"command":"connect_marketo","actor":"a","x":)" + deep + std::string(100, ']') + "}";
  EXPECT_EQ(ErrorOf(deep).code, "invalid_json");
}

TEST(CommandCodec, RefusesAnUnknownCommand) {
  const DecodeError error = ErrorOf(R"({"command":"delete_everything","actor":"a"})");
  EXPECT_EQ(error.code, "unknown_command");
  EXPECT_EQ(error.field, "command");
  EXPECT_NE(error.message.find("delete_everything"), std::string::npos);
}

TEST(CommandCodec, RefusesMissingOrMistypedCommonFields) {
  struct Case {
    const char* body;
    const char* field;
  };
  for (
      const Case& c : {
          Case{R"({"actor":"a"})", "command"},
          Case{R"({"command":5,"actor":"a"})", "command"},
          Case{R"({"command":"connect_marketo"})", "actor"},
          Case{R"({"command":"connect_marketo","actor":""})", "actor"},
          Case{R"({"command":"connect_marketo","actor":"a b"})", "actor"},
          Case{R"({"command":"connect_marketo","actor":"-a"})", "actor"},
          Case{R"({"command":"connect_marketo","actor":7})", "actor"},
          Case{R"({"command":"connect_marketo","actor":"a","member":"b"})", "member"},
          Case{R"({"command":"connect_marketo","actor":"a","command_id":""})", "command_id"},
          Case{R"({"command":"connect_marketo","actor":"a","occurred_at":"today"})", "occurred_at"},
          Case{R"({"command":"connect_marketo","actor":"a","expected_version":-1})",
               "expected_version"},
          Case{R"({"command":"connect_marketo","actor":"a","expected_version":"1"})",
               "expected_version"},
          Case{R"({"command":"remove_member","actor":"a"})", "member"},
          Case{R"({"command":"grant_marketo_access","actor":"a","member":"x/y"})", "member"},
          Case{R"({"command":"revoke_marketo_access","actor":"a","member":null})", "member"},
          Case{
              R"({"command":"invite_member","actor":"a","member":"b","email":"b@x","role":"boss"})",
              "role"},
          Case{
              R"({"command":"invite_member","actor":"a","member":"b","email":"nope","role":"user"})",
              "email"},
          Case{R"({"command":"invite_member","actor":"a","member":"b","role":"user"})", "email"},
      }) {
    const DecodeError error = ErrorOf(c.body);
    EXPECT_EQ(error.code, "invalid_field") << c.body;
    EXPECT_EQ(error.field, c.field) << c.body;
    EXPECT_NE(error.message.find(c.field), std::string::npos) << c.body;
  }
}

TEST(CommandCodec, DecodesEachOnboardingStepWithItsFields) {
  auto step = [](const std::string& name, const std::string& fields = "") {
    return std::get<commands::OnboardingStep>(Decoded(StepBody(name, fields)).command.body);
  };
  EXPECT_EQ(step("get_started").step, Step::kGetStarted);
  EXPECT_EQ(step("activate_with_salesforce", R"("api_enabled":false)").api_enabled, false);
  const auto allow =
      step("salesforce_allow", R"("sales_email":"c@a.test","salesforce_email":"C@a.test")");
  EXPECT_EQ(allow.sales_email, "c@a.test");
  EXPECT_EQ(allow.salesforce_email, "C@a.test");
  EXPECT_EQ(step("choose_email_client", R"("client":"outlook")").client, "outlook");
  EXPECT_EQ(step("enter_email", R"("email":"c@a.test")").email, "c@a.test");
  EXPECT_EQ(step("signature", R"("skipped":true)").skipped, true);
  EXPECT_EQ(step("signature", R"("skipped":false)").skipped, false);
  EXPECT_EQ(step("tour", R"("choice":"not_now")").choice, "not_now");
  EXPECT_EQ(step("launch", R"("target":"salesforce_classic")").target, "salesforce_classic");
  EXPECT_EQ(step("msi_panel_opened", R"("record":"account")").record, "account");
  const auto plain = step("enter_password");
  EXPECT_EQ(plain.step, Step::kEnterPassword);
  EXPECT_EQ(plain.email, std::nullopt);
}

TEST(CommandCodec, RefusesBadStepFields) {
  struct Case {
    std::string body;
    const char* field;
  };
  for (const Case& c : {
           Case{StepBody("invited"), "step"},
           Case{StepBody("teleport"), "step"},
           Case{R"({"command":"onboarding_step","actor":"carol"})", "step"},
           Case{StepBody("activate_with_salesforce"), "api_enabled"},
           Case{StepBody("activate_with_salesforce", R"("api_enabled":"yes")"), "api_enabled"},
           Case{StepBody("salesforce_allow", R"("sales_email":"c@a.test")"), "salesforce_email"},
           Case{StepBody("salesforce_allow", R"("salesforce_email":"c@a.test")"), "sales_email"},
           Case{StepBody("salesforce_allow", R"("sales_email":"c","salesforce_email":"c@a.test")"),
                "sales_email"},
           Case{StepBody("choose_email_client"), "client"},
           Case{StepBody("choose_email_client", R"("client":"thunderbird")"), "client"},
           Case{StepBody("enter_email"), "email"},
           Case{StepBody("enter_email", R"("email":"c @a.test")"), "email"},
           Case{StepBody("signature", R"("skipped":"no")"), "skipped"},
           Case{StepBody("signature"), "skipped"},
           Case{StepBody("tour"), "choice"},
           Case{StepBody("tour", R"("choice":"later")"), "choice"},
           Case{StepBody("launch"), "target"},
           Case{StepBody("launch", R"("target":"salesforce")"), "target"},
           Case{StepBody("msi_panel_opened"), "record"},
           Case{StepBody("msi_panel_opened", R"("record":"case")"), "record"},
           // A field of another step is not accepted.
           Case{StepBody("get_started", R"("client":"gmail")"), "client"},
           Case{StepBody("enter_password", R"("email":"c@a.test")"), "email"},
           Case{StepBody("tour", R"("choice":"viewed","skipped":true)"), "skipped"},
       }) {
    const DecodeError error = ErrorOf(c.body);
    EXPECT_EQ(error.code, "invalid_field") << c.body;
    EXPECT_EQ(error.field, c.field) << c.body;
  }
}

TEST(CommandCodec, DecodesCreateTenant) {
  const auto decoded =
      DecodeCreateTenant(R"({"tenant":"acme","admin":"alice","email":"alice@acme.test"})");
  ASSERT_TRUE(std::holds_alternative<DecodedCreateTenant>(decoded));
  const auto& command = std::get<DecodedCreateTenant>(decoded).command;
  EXPECT_EQ(command.tenant, "acme");
  EXPECT_EQ(command.admin, "alice");
  EXPECT_EQ(command.email, "alice@acme.test");

  auto error = [](const std::string& body) {
    const auto result = DecodeCreateTenant(body);
    return std::holds_alternative<DecodeError>(result) ? std::get<DecodeError>(result)
                                                       : DecodeError{"none", "", ""};
  };
  EXPECT_EQ(error(R"({"tenant":"acme","admin":"alice"})").field, "email");
  EXPECT_EQ(error(R"({"tenant":"a/b","admin":"alice","email":"a@b"})").field, "tenant");
  EXPECT_EQ(error(R"({"tenant":"acme","admin":"alice","email":"a@b","x":1})").field, "x");
  EXPECT_EQ(error(R"({"tenant":"acme","admin":"alice","email":"a@b","password":"p"})").code,
            "secret_not_allowed");
  EXPECT_EQ(error("{").code, "invalid_json");
}

TEST(CommandCodec, ValidatesIdsAndEmails) {
  EXPECT_TRUE(IsValidId("alice"));
  EXPECT_TRUE(IsValidId("a.b_c-1"));
  EXPECT_TRUE(IsValidId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId(".alice"));
  EXPECT_FALSE(IsValidId("al ice"));
  EXPECT_FALSE(IsValidId("a/b"));
  EXPECT_TRUE(IsValidEmail("a@b"));
  EXPECT_FALSE(IsValidEmail("@b"));
  EXPECT_FALSE(IsValidEmail("a@"));
  EXPECT_FALSE(IsValidEmail("a@b@c"));
  EXPECT_FALSE(IsValidEmail("a b@c"));
  EXPECT_FALSE(IsValidEmail("a\n@c"));
}

}  // namespace
}  // namespace custody
