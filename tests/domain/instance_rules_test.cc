// One test per rule of the instance aggregate (members and the Marketo connection): each
// refusal with its exact rule code and reason, and the path the rule allows.

#include <gtest/gtest.h>

#include "domain/instance.h"
#include "tests/domain/harness.h"

namespace custody {
namespace {

using domaintest::Accepted;
using domaintest::ConnectedAdmins;
using domaintest::DataOf;
using domaintest::FactsOf;
using domaintest::Harness;
using domaintest::Refused;
using Strings = std::vector<std::string>;

// alice created the tenant; bob and erin are admins; carol and dave are users.
class InstanceRules : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Accepted(h.CreateTenant("alice")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "bob", "admin")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "carol", "user")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "dave", "user")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "erin", "admin")));
  }

  // Every refusal is recorded as one command.rejected event, and changes nothing else.
  void ExpectOnlyRejectionRecorded(const InstanceState& before) {
    ASSERT_EQ(h.last_types(), Strings{"command.rejected"});
    InstanceState expected = before;
    expected.version = h.instance().version;
    EXPECT_EQ(h.instance(), expected);
  }

  Harness h;
};

// --- tenant_exists ---------------------------------------------------------------------------

TEST(CreateTenant, RecordsTheTenantAndItsFirstAdmin) {
  Harness h;
  ASSERT_TRUE(Accepted(h.CreateTenant("alice", "alice@acme.test")));
  ASSERT_EQ(h.last_types(), (Strings{"tenant.created", "member.invited"}));
  EXPECT_TRUE(h.instance().created);
  EXPECT_EQ(h.instance().tenant, "acme");
  ASSERT_NE(h.instance().member("alice"), nullptr);
  EXPECT_TRUE(h.instance().member("alice")->is_admin());
  EXPECT_EQ(h.instance().member("alice")->email, "alice@acme.test");
}

TEST_F(InstanceRules, CreateTenantRefusedWhenItExists) {
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.CreateTenant("mallory"), "tenant_exists", {"already exists", "acme"}));
  ExpectOnlyRejectionRecorded(before);
  EXPECT_EQ(h.instance().member("mallory"), nullptr);
}

// --- invite_member ---------------------------------------------------------------------------

TEST_F(InstanceRules, InviteAllowedForAnAdmin) {
  const auto facts = FactsOf(h.Invite("bob", "frank", "user"));
  ASSERT_EQ(h.last().size(), 1u);
  const auto invited = DataOf<events::MemberInvited>(h.last().at(0));
  EXPECT_EQ(invited.member, "frank");
  EXPECT_EQ(invited.email, "frank@acme.test");
  EXPECT_EQ(invited.role, "user");
  EXPECT_EQ(h.last().at(0).subject, "frank");
  EXPECT_EQ(h.last().at(0).actor, "bob");
  EXPECT_TRUE(h.instance().is_active("frank"));
}

TEST_F(InstanceRules, InviteRefusedForAUser) {
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Invite("carol", "frank", "user"), "not_an_admin",
                      {"only an admin", "'carol' is a user"}));
  ExpectOnlyRejectionRecorded(before);
}

TEST_F(InstanceRules, InviteRefusedForAnExistingMember) {
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Invite("alice", "carol", "admin"), "member_exists", {"already a member"}));
  ExpectOnlyRejectionRecorded(before);
  EXPECT_EQ(h.instance().member("carol")->role, "user");
}

TEST_F(InstanceRules, InviteRefusedForTheIdOfARemovedMember) {
  ASSERT_TRUE(Accepted(h.Remove("alice", "dave")));
  EXPECT_TRUE(Refused(h.Invite("alice", "dave", "user"), "member_exists", {"never reused"}));
  EXPECT_TRUE(h.instance().member("dave")->removed);
}

TEST_F(InstanceRules, CommandsRefusedForAnUnknownActor) {
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Invite("ghost", "frank", "user"), "unknown_member", {"not a member"}));
  ExpectOnlyRejectionRecorded(before);
  EXPECT_TRUE(Refused(h.Connect("ghost"), "unknown_member", {"'ghost'"}));
  EXPECT_TRUE(Refused(h.Disconnect("ghost"), "unknown_member", {"'ghost'"}));
  EXPECT_TRUE(Refused(h.Remove("ghost", "carol"), "unknown_member", {"'ghost'"}));
}

TEST_F(InstanceRules, CommandsRefusedForARemovedActor) {
  ASSERT_TRUE(Accepted(h.Remove("alice", "erin")));
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Invite("erin", "frank", "user"), "member_removed", {"was removed"}));
  ExpectOnlyRejectionRecorded(before);
  EXPECT_TRUE(Refused(h.Connect("erin"), "member_removed", {"'erin'"}));
  EXPECT_TRUE(Refused(h.Remove("erin", "carol"), "member_removed", {"'erin'"}));
}

// --- connect_marketo -------------------------------------------------------------------------

TEST_F(InstanceRules, ConnectAllowedForAnAdminWhoBecomesOwner) {
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  ASSERT_EQ(h.last_types(), Strings{"marketo.connected"});
  EXPECT_EQ(DataOf<events::MarketoConnected>(h.last().at(0)).admin, "bob");
  ASSERT_NE(h.instance().owner(), nullptr);
  EXPECT_EQ(h.instance().owner()->admin, "bob");
  EXPECT_EQ(h.instance().owner()->since_position, h.last().at(0).position);
}

TEST_F(InstanceRules, ConnectRefusedForAUser) {
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Connect("carol"), "not_an_admin", {"only an admin", "connect"}));
  ExpectOnlyRejectionRecorded(before);
}

TEST_F(InstanceRules, ConnectRefusedWhenAlreadyConnected) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Connect("alice"), "already_connected", {"already connected"}));
  ExpectOnlyRejectionRecorded(before);
}

TEST_F(InstanceRules, SecondConnectedAdminStandsByAndFirstStaysOwner) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  EXPECT_EQ(ConnectedAdmins(h.instance()), (Strings{"alice", "bob"}));
  EXPECT_EQ(h.instance().owner()->admin, "alice");
}

TEST(Handover, ConnectRefusedWhileAccessGranted) {
  Harness h;
  ASSERT_TRUE(Accepted(h.CreateTenant("alice")));
  ASSERT_TRUE(Accepted(h.Invite("alice", "bob", "admin")));
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "bob")));
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Connect("bob"), "access_must_be_revoked_first",
                      {"'bob'", "holds granted",
                       "'alice', who owns the connection, or another "
                       "connected admin",
                       "must first revoke", "User Access"}));
  ASSERT_EQ(h.last_types(), Strings{"command.rejected"});
  EXPECT_EQ(ConnectedAdmins(h.instance()), Strings{"alice"});
  EXPECT_EQ(h.instance().access, before.access);

  ASSERT_TRUE(Accepted(h.Revoke("alice", "bob")));
  EXPECT_TRUE(Accepted(h.Connect("bob")));
  EXPECT_EQ(ConnectedAdmins(h.instance()), (Strings{"alice", "bob"}));
}

// --- disconnect_marketo ----------------------------------------------------------------------

TEST_F(InstanceRules, DisconnectRefusedForAnAdminWhoNeverConnected) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Disconnect("bob"), "not_connected",
                      {"has no Marketo connection open", "only an admin who clicked Connect"}));
  ExpectOnlyRejectionRecorded(before);
}

TEST_F(InstanceRules, DisconnectRefusedForAnAdminWhoDisconnectedAlready) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  ASSERT_TRUE(Accepted(h.Disconnect("alice")));
  const InstanceState before = h.instance();
  // The refusal is a fact in the log: it must not say alice never connected.
  const auto again = h.Disconnect("alice");
  EXPECT_TRUE(Refused(again, "not_connected",
                      {"has no Marketo connection open", "has not disconnected since"}));
  EXPECT_EQ(domaintest::RefusalOf(again).message.find("never"), std::string::npos);
  ExpectOnlyRejectionRecorded(before);
}

TEST_F(InstanceRules, DisconnectRefusedForAUser) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  EXPECT_TRUE(Refused(h.Disconnect("carol"), "not_connected", {"has no Marketo connection open"}));
  EXPECT_TRUE(h.instance().has_access("carol"));
}

TEST_F(InstanceRules, OwnerDisconnectHandsOwnershipToEarliestOtherConnectedAdmin) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Connect("erin")));
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  ASSERT_TRUE(Accepted(h.Disconnect("alice")));
  ASSERT_EQ(h.last_types(), (Strings{"marketo.disconnected", "marketo.ownership_transferred"}));
  EXPECT_EQ(DataOf<events::MarketoDisconnected>(h.last().at(0)).admin, "alice");
  const auto transfer = DataOf<events::OwnershipTransferred>(h.last().at(1));
  EXPECT_EQ(transfer.from, "alice");
  EXPECT_EQ(transfer.to, "erin");
  EXPECT_EQ(h.instance().owner()->admin, "erin");
  EXPECT_EQ(ConnectedAdmins(h.instance()), (Strings{"erin", "bob"}));
  EXPECT_EQ(h.instance().access, Strings{"carol"});  // users with access stay connected
}

TEST_F(InstanceRules, StandbyDisconnectLeavesOwnershipAlone) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  ASSERT_TRUE(Accepted(h.Grant("bob", "carol")));
  ASSERT_TRUE(Accepted(h.Disconnect("bob")));
  ASSERT_EQ(h.last_types(), Strings{"marketo.disconnected"});
  EXPECT_EQ(ConnectedAdmins(h.instance()), Strings{"alice"});
  EXPECT_EQ(h.instance().access, Strings{"carol"});
}

TEST_F(InstanceRules, LastAdminDisconnectTakesIntegrationDownAndCutsOffAccessInGrantOrder) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "dave")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "bob")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  ASSERT_TRUE(Accepted(h.Disconnect("alice")));
  ASSERT_EQ(h.last_types(), (Strings{"marketo.disconnected", "marketo.integration_down"}));
  const auto down = DataOf<events::IntegrationDown>(h.last().at(1));
  EXPECT_EQ(down.last_admin, "alice");
  EXPECT_EQ(down.cut_off, (Strings{"dave", "bob", "carol"}));
  EXPECT_EQ(h.instance().owner(), nullptr);
  EXPECT_TRUE(h.instance().access.empty());
}

TEST_F(InstanceRules, LastAdminDisconnectWithNobodyGrantedCutsOffNobody) {
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  ASSERT_TRUE(Accepted(h.Disconnect("bob")));
  const auto down = DataOf<events::IntegrationDown>(h.last().at(1));
  EXPECT_EQ(down.last_admin, "bob");
  EXPECT_TRUE(down.cut_off.empty());
}

// --- grant_marketo_access --------------------------------------------------------------------

TEST_F(InstanceRules, GrantAllowedForAConnectedAdmin) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  ASSERT_TRUE(Accepted(h.Grant("bob", "carol")));  // a standby admin may grant too
  const auto granted = DataOf<events::AccessGranted>(h.last().at(0));
  EXPECT_EQ(granted.member, "carol");
  EXPECT_EQ(granted.by, "bob");
  ASSERT_TRUE(Accepted(h.Grant("alice", "erin")));  // an admin who is not connected
  EXPECT_EQ(h.instance().access, (Strings{"carol", "erin"}));
}

TEST_F(InstanceRules, GrantRefusedForAnAdminWhoIsNotConnected) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Grant("bob", "carol"), "not_connected",
                      {"only a connected admin can grant", "not connected"}));
  ExpectOnlyRejectionRecorded(before);
}

TEST_F(InstanceRules, GrantRefusedForAUser) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  EXPECT_TRUE(Refused(h.Grant("carol", "dave"), "not_an_admin", {"only an admin can grant"}));
  EXPECT_FALSE(h.instance().has_access("dave"));
}

TEST_F(InstanceRules, GrantRefusedForAConnectedAdmin) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Grant("alice", "bob"), "already_connected",
                      {"connected admin", "needs no granted access"}));
  ExpectOnlyRejectionRecorded(before);
  EXPECT_TRUE(Refused(h.Grant("alice", "alice"), "already_connected", {"'alice'"}));
}

TEST_F(InstanceRules, GrantRefusedWhenAlreadyGranted) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Grant("alice", "carol"), "access_already_granted", {"already holds"}));
  ExpectOnlyRejectionRecorded(before);
  EXPECT_EQ(h.instance().access, Strings{"carol"});
}

TEST_F(InstanceRules, GrantRefusedForUnknownOrRemovedTarget) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Remove("alice", "dave")));
  EXPECT_TRUE(Refused(h.Grant("alice", "ghost"), "unknown_member", {"'ghost'", "not a member"}));
  EXPECT_TRUE(Refused(h.Grant("alice", "dave"), "member_removed", {"'dave'", "was removed"}));
  EXPECT_TRUE(h.instance().access.empty());
}

// --- revoke_marketo_access -------------------------------------------------------------------

TEST_F(InstanceRules, RevokeAllowedForAConnectedAdmin) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "dave")));
  ASSERT_TRUE(Accepted(h.Revoke("alice", "carol")));
  const auto revoked = DataOf<events::AccessRevoked>(h.last().at(0));
  EXPECT_EQ(revoked.member, "carol");
  EXPECT_EQ(revoked.by, "alice");
  EXPECT_EQ(h.instance().access, Strings{"dave"});
}

TEST_F(InstanceRules, RevokeRefusedWhenNoAccessWasGranted) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Revoke("alice", "carol"), "access_not_granted",
                      {"holds no Marketo integration access"}));
  ExpectOnlyRejectionRecorded(before);
}

TEST_F(InstanceRules, RevokeRefusedForAnAdminWhoIsNotConnected) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  EXPECT_TRUE(
      Refused(h.Revoke("bob", "carol"), "not_connected", {"only a connected admin can revoke"}));
  EXPECT_TRUE(Refused(h.Revoke("dave", "carol"), "not_an_admin", {"only an admin can revoke"}));
  EXPECT_TRUE(h.instance().has_access("carol"));
}

TEST_F(InstanceRules, RevokeRefusedForUnknownOrRemovedTarget) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Remove("alice", "dave")));
  EXPECT_TRUE(Refused(h.Revoke("alice", "ghost"), "unknown_member", {"'ghost'"}));
  EXPECT_TRUE(Refused(h.Revoke("alice", "dave"), "member_removed", {"'dave'", "was removed"}));
}

}  // namespace
}  // namespace custody
