// The event payloads: their type names, canonical data, and the decoder's refusals.

#include "domain/events.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace custody {
namespace {

using events::Payload;

struct Sample {
  Payload payload;
  const char* type;
  const char* data;  // the canonical JSON expected
};

events::StepCompleted Done(const std::string& member, const std::string& step) {
  events::StepCompleted done;
  done.member = member;
  done.step = step;
  return done;
}

// One sample of every payload type, with the optional fields both set and unset.
std::vector<Sample> Samples() {
  events::StepCompleted allow = Done("carol", "salesforce_allow");
  allow.sales_email = "Carol@acme.test";
  allow.salesforce_email = "carol@acme.test";
  events::StepCompleted every{"carol",  "msi_panel_opened", true,  "a@b",
                              "c@d",    "outlook",          "e@f", false,
                              "viewed", "web_app",          "lead"};
  events::CommandRejected refused{
      "onboarding_step", "step_out_of_order", "say \"next\"\n", "carol", "start", "next",
      std::nullopt};
  events::CommandRejected aimed{"remove_member", "not_an_admin", "only an admin", "uma",
                                std::nullopt,    std::nullopt,   "alice"};
  return {
      {events::TenantCreated{"acme"}, "tenant.created", R"({"tenant":"acme"})"},
      {events::MemberInvited{"bob", "bob@acme.test", "admin"}, "member.invited",
       R"({"email":"bob@acme.test","member":"bob","role":"admin"})"},
      {events::MemberRemoved{"bob"}, "member.removed", R"({"member":"bob"})"},
      {events::MarketoConnected{"bob"}, "marketo.connected", R"({"admin":"bob"})"},
      {events::MarketoDisconnected{"bob"}, "marketo.disconnected", R"({"admin":"bob"})"},
      {events::OwnershipTransferred{"alice", "bob"}, "marketo.ownership_transferred",
       R"({"from":"alice","to":"bob"})"},
      {events::IntegrationDown{"bob", {"zoe", "carol"}}, "marketo.integration_down",
       R"({"cut_off":["zoe","carol"],"last_admin":"bob"})"},
      {events::IntegrationDown{"bob", {}}, "marketo.integration_down",
       R"({"cut_off":[],"last_admin":"bob"})"},
      {events::AccessGranted{"carol", "bob"}, "marketo.access_granted",
       R"({"by":"bob","member":"carol"})"},
      {events::AccessRevoked{"carol", "bob"}, "marketo.access_revoked",
       R"({"by":"bob","member":"carol"})"},
      {Done("carol", "get_started"), "onboarding.step_completed",
       R"({"member":"carol","step":"get_started"})"},
      {allow, "onboarding.step_completed",
       R"({"member":"carol","sales_email":"Carol@acme.test","salesforce_email":"carol@acme.test",)"
       R"("step":"salesforce_allow"})"},
      {every, "onboarding.step_completed",
       R"({"api_enabled":true,"choice":"viewed","client":"outlook","email":"e@f","member":"carol",)"
       R"("record":"lead","sales_email":"a@b","salesforce_email":"c@d","skipped":false,)"
       R"("step":"msi_panel_opened","target":"web_app"})"},
      {events::CommandRejected{"connect_marketo", "not_an_admin", "only an admin", std::nullopt,
                               std::nullopt, std::nullopt, std::nullopt},
       "command.rejected",
       R"({"command":"connect_marketo","message":"only an admin","rule":"not_an_admin"})"},
      {refused, "command.rejected",
       R"({"command":"onboarding_step","expected_step":"next","member":"carol",)"
       R"("message":"say \"next\"\n","rule":"step_out_of_order","step":"start"})"},
      {aimed, "command.rejected",
       R"({"command":"remove_member","member":"uma","message":"only an admin",)"
       R"("rule":"not_an_admin","target":"alice"})"},
  };
}

TEST(Events, EveryPayloadEncodesCanonicallyAndDecodesBack) {
  std::set<std::size_t> kinds;
  for (const Sample& sample : Samples()) {
    SCOPED_TRACE(sample.type);
    kinds.insert(sample.payload.index());
    EXPECT_STREQ(events::TypeOf(sample.payload), sample.type);
    const std::string data = events::EncodeData(sample.payload);
    EXPECT_EQ(data, sample.data);
    const Result<Payload> decoded = events::DecodeData(sample.type, data, kEventFormat);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(decoded->index(), sample.payload.index());
    EXPECT_EQ(events::EncodeData(*decoded), data);
  }
  EXPECT_EQ(kinds.size(), std::variant_size_v<Payload>);
}

TEST(Events, DecodeKeepsEveryField) {
  const auto decoded =
      events::DecodeData("marketo.integration_down",
                         R"({"last_admin":"bob","cut_off":["zoe","carol"]})", kEventFormat);
  ASSERT_TRUE(decoded.ok());
  const auto& down = std::get<events::IntegrationDown>(*decoded);
  EXPECT_EQ(down.last_admin, "bob");
  EXPECT_EQ(down.cut_off, (std::vector<std::string>{"zoe", "carol"}));

  const auto step =
      events::DecodeData("onboarding.step_completed",
                         R"({"member":"c","step":"signature","skipped":true})", kEventFormat);
  ASSERT_TRUE(step.ok());
  const auto& done = std::get<events::StepCompleted>(*step);
  EXPECT_EQ(done.skipped, true);
  EXPECT_EQ(done.client, std::nullopt);
}

TEST(Events, DecodeEventReadsTheEnvelope) {
  Event event;
  event.type = "marketo.connected";
  event.data = R"({"admin":"bob"})";
  const auto decoded = events::DecodeEvent(event);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<events::MarketoConnected>(*decoded).admin, "bob");
}

TEST(Events, DecodeRefusesAnUnknownType) {
  const auto decoded = events::DecodeData("marketo.exploded", R"({"admin":"bob"})", kEventFormat);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("unknown event type"), std::string::npos);
  EXPECT_FALSE(events::DecodeData("", "{}", kEventFormat).ok());
}

TEST(Events, DecodeRefusesFieldsTheTypeDoesNotDefine) {
  for (const auto& [type, data] : std::vector<std::pair<std::string, std::string>>{
           {"marketo.connected", R"({"admin":"bob","password":"x"})"},
           {"member.removed", R"({"member":"bob","why":"left"})"},
           {"onboarding.step_completed", R"({"member":"c","step":"enter_password","secret":"x"})"},
           {"tenant.created", R"({"tenant":"acme","admin":"alice"})"},
       }) {
    const auto decoded = events::DecodeData(type, data, kEventFormat);
    ASSERT_FALSE(decoded.ok()) << data;
    EXPECT_EQ(decoded.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(decoded.status().message().find("does not define"), std::string::npos) << data;
  }
}

TEST(Events, DecodeRefusesMissingOrMistypedFieldsNamingThem) {
  for (const auto& [type, data, message] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"marketo.connected", "{}", "missing field 'admin'"},
           {"marketo.connected", R"({"admin":7})", "field 'admin' must be a string"},
           {"marketo.connected", R"({"admin":{"name":"bob"}})", "field 'admin' must be a string"},
           {"marketo.connected", R"({"admin":["bob"]})", "field 'admin' must be a string"},
           {"marketo.connected", R"({"admin":"bob","admin":"eve"})", "field 'admin' appears twice"},
           {"marketo.ownership_transferred", R"({"from":"alice"})", "missing field 'to'"},
           {"marketo.integration_down", R"({"last_admin":"bob"})", "missing field 'cut_off'"},
           {"marketo.integration_down", R"({"last_admin":"bob","cut_off":"carol"})",
            "field 'cut_off' must be an array of strings"},
           {"marketo.integration_down", R"({"last_admin":"bob","cut_off":["carol",1]})",
            "field 'cut_off' must be an array of strings"},
           {"marketo.integration_down", R"({"last_admin":"bob","cut_off":[["carol"]]})",
            "field 'cut_off' must be an array of strings"},
           {"marketo.integration_down", R"({"last_admin":"bob","cut_off":[true]})",
            "field 'cut_off' must be an array of strings"},
           {"onboarding.step_completed", R"({"member":"c","step":"signature","skipped":"yes"})",
            "field 'skipped' must be a boolean"},
           {"onboarding.step_completed", R"({"member":"c","step":"tour","skipped":1})",
            "field 'skipped' must be a boolean"},
           {"onboarding.step_completed", R"({"member":"c","step":"tour","choice":null})",
            "field 'choice' must be a string"},
           {"onboarding.step_completed", R"({"member":"c","step":"tour","client":false})",
            "field 'client' must be a string"},
           {"command.rejected", R"({"command":"x","rule":"y"})", "missing field 'message'"},
           {"marketo.connected", R"({"admin":"bob"} {"admin":"eve"})", "data is not a JSON object"},
           {"marketo.connected", R"({"admin":"bob")", "data is not a JSON object"},
       }) {
    const auto decoded = events::DecodeData(type, data, kEventFormat);
    ASSERT_FALSE(decoded.ok()) << type << " " << data;
    EXPECT_EQ(decoded.status().code(), Status::Code::kInvalidArgument) << data;
    EXPECT_EQ(decoded.status().message(), type + ": " + message) << data;
  }
}

TEST(Events, DecodeRefusesDataThatIsNotAnObject) {
  for (const char* data : {"", "[]", "\"bob\"", "{", "null"}) {
    const auto decoded = events::DecodeData("marketo.connected", data, kEventFormat);
    ASSERT_FALSE(decoded.ok()) << data;
    EXPECT_EQ(decoded.status().code(), Status::Code::kInvalidArgument) << data;
  }
}

TEST(Events, DecodeReadsEscapedKeysAndStrings) {
  const auto decoded = events::DecodeData(
      "marketo.access_granted", R"({"b\u0079":"b\u00f6b \"the\" admin","member":"z\\o\u00e9"})",
      kEventFormat);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const auto& granted = std::get<events::AccessGranted>(*decoded);
  EXPECT_EQ(granted.by,
            "b\xc3\xb6"
            "b \"the\" admin");
  EXPECT_EQ(granted.member, "z\\o\xc3\xa9");
}

TEST(Events, DecodeRefusesAnUnknownFormat) {
  for (const int format : {0, kEventFormat + 1}) {
    const auto decoded = events::DecodeData("marketo.connected", R"({"admin":"bob"})", format);
    ASSERT_FALSE(decoded.ok()) << format;
    EXPECT_EQ(decoded.status().code(), Status::Code::kNotSupported);
  }
  // Formats differ in the envelope only: data of every known format decodes the same.
  for (int format = 1; format <= kEventFormat; ++format) {
    const auto decoded = events::DecodeData("marketo.connected", R"({"admin":"bob"})", format);
    ASSERT_TRUE(decoded.ok()) << format;
    EXPECT_EQ(std::get<events::MarketoConnected>(*decoded).admin, "bob");
  }
}

}  // namespace
}  // namespace custody
