// remove_member and CheckRemoval: the owner cannot be removed, and what is left of the handover.

#include <gtest/gtest.h>

#include "domain/instance.h"
#include "tests/domain/harness.h"

namespace custody {
namespace {

using domaintest::Accepted;
using domaintest::ConnectedAdmins;
using domaintest::DataOf;
using domaintest::Harness;
using domaintest::RefusalOf;
using domaintest::Refused;
using Strings = std::vector<std::string>;

// The (command, actor, member) of each remaining step, in order.
std::vector<Strings> Steps(const RemovalCheck& check) {
  std::vector<Strings> steps;
  for (const HandoverStep& step : check.remaining_steps) {
    steps.push_back({step.command, step.actor, step.member});
  }
  return steps;
}

// alice created the tenant; bob is an admin; carol is a user.
class Removal : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Accepted(h.CreateTenant("alice")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "bob", "admin")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "carol", "user")));
  }
  Harness h;
};

TEST_F(Removal, OwnerCannotBeRemovedAndTheMessageListsTheHandover) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  const InstanceState before = h.instance();
  EXPECT_TRUE(Refused(h.Remove("bob", "alice"), "owner_cannot_be_removed",
                      {"'alice' owns the Marketo connection", "Handover first",
                       "1. 'bob' establishes a new connection", "2. 'alice' disconnects"}));
  EXPECT_EQ(RefusalOf(h.Remove("bob", "alice")).member, "alice");
  ASSERT_EQ(h.last_types(), Strings{"command.rejected"});
  const auto rejected = DataOf<events::CommandRejected>(h.last().at(0));
  EXPECT_EQ(rejected.command, "remove_member");
  EXPECT_EQ(rejected.rule, "owner_cannot_be_removed");
  EXPECT_EQ(rejected.member, "alice");
  EXPECT_TRUE(h.instance().is_active("alice"));
  EXPECT_EQ(h.instance().access, before.access);
  EXPECT_EQ(h.instance().connected, before.connected);
}

TEST_F(Removal, OwnerRefusalNamesTheRevocationWhenTheSuccessorHoldsAccess) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "bob")));
  EXPECT_TRUE(Refused(h.Remove("alice", "alice"), "owner_cannot_be_removed",
                      {"1. 'alice' revokes the Marketo integration access of 'bob' in",
                       "2. 'bob' establishes", "3. 'alice' disconnects"}));
}

TEST_F(Removal, AdminWhoDoesNotOwnTheConnectionCanBeRemoved) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Remove("alice", "bob")));
  ASSERT_EQ(h.last_types(), Strings{"member.removed"});
  EXPECT_EQ(DataOf<events::MemberRemoved>(h.last().at(0)).member, "bob");
  EXPECT_TRUE(h.instance().member("bob")->removed);
  EXPECT_FALSE(h.instance().is_active("bob"));
}

TEST_F(Removal, StandbyConnectedAdminIsDisconnectedFirst) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  ASSERT_TRUE(Accepted(h.Remove("alice", "bob")));
  ASSERT_EQ(h.last_types(), (Strings{"marketo.disconnected", "member.removed"}));
  EXPECT_EQ(DataOf<events::MarketoDisconnected>(h.last().at(0)).admin, "bob");
  EXPECT_EQ(ConnectedAdmins(h.instance()), Strings{"alice"});
  EXPECT_EQ(h.instance().access, Strings{"carol"});
}

TEST_F(Removal, AccessHolderLosesAccessFirst) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  ASSERT_TRUE(Accepted(h.Remove("alice", "carol")));
  ASSERT_EQ(h.last_types(), (Strings{"marketo.access_revoked", "member.removed"}));
  const auto revoked = DataOf<events::AccessRevoked>(h.last().at(0));
  EXPECT_EQ(revoked.member, "carol");
  EXPECT_EQ(revoked.by, "alice");
  EXPECT_TRUE(h.instance().access.empty());
}

TEST_F(Removal, RefusedForAUser) {
  EXPECT_TRUE(Refused(h.Remove("carol", "bob"), "not_an_admin", {"only an admin can remove"}));
  EXPECT_TRUE(h.instance().is_active("bob"));
}

TEST_F(Removal, RefusedForUnknownOrAlreadyRemovedMember) {
  EXPECT_TRUE(Refused(h.Remove("alice", "ghost"), "unknown_member", {"'ghost'", "not a member"}));
  ASSERT_TRUE(Accepted(h.Remove("alice", "carol")));
  EXPECT_TRUE(Refused(h.Remove("alice", "carol"), "member_removed", {"'carol'", "was removed"}));
}

// --- CheckRemoval ----------------------------------------------------------------------------

TEST_F(Removal, CheckWhenTheSuccessorHoldsAccess) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "bob")));
  const RemovalCheck check = CheckRemoval(h.instance(), "alice");
  EXPECT_FALSE(check.safe);
  EXPECT_EQ(check.rule, "owner_cannot_be_removed");
  EXPECT_NE(check.reason.find("owns the Marketo connection"), std::string::npos);
  EXPECT_EQ(Steps(check), (std::vector<Strings>{{"revoke_marketo_access", "alice", "bob"},
                                                {"connect_marketo", "bob", ""},
                                                {"disconnect_marketo", "alice", ""}}));
  EXPECT_NE(check.remaining_steps.at(0).description.find(
                "revokes the Marketo integration access of 'bob' in"),
            std::string::npos);
  EXPECT_NE(check.remaining_steps.at(2).description.find("ownership passes to 'bob'"),
            std::string::npos);
}

TEST_F(Removal, CheckWhenTheSuccessorIsNotConnected) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  const RemovalCheck check = CheckRemoval(h.instance(), "alice");
  EXPECT_FALSE(check.safe);
  EXPECT_EQ(Steps(check), (std::vector<Strings>{{"connect_marketo", "bob", ""},
                                                {"disconnect_marketo", "alice", ""}}));
}

TEST_F(Removal, CheckPicksTheEarliestInvitedActiveAdminAsSuccessor) {
  ASSERT_TRUE(Accepted(h.Invite("alice", "dan", "admin")));
  ASSERT_TRUE(Accepted(h.Invite("alice", "abe", "admin")));  // sorts first, invited last
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Remove("alice", "bob")));
  EXPECT_EQ(CheckRemoval(h.instance(), "alice").remaining_steps.at(0).actor, "dan");
}

TEST_F(Removal, CheckWhenTheSuccessorIsConnected) {
  ASSERT_TRUE(Accepted(h.Invite("alice", "dan", "admin")));
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Connect("dan")));  // connected beats invited earlier
  const RemovalCheck check = CheckRemoval(h.instance(), "alice");
  EXPECT_FALSE(check.safe);
  EXPECT_EQ(Steps(check), (std::vector<Strings>{{"disconnect_marketo", "alice", ""}}));
  EXPECT_NE(check.remaining_steps.at(0).description.find("ownership passes to 'dan'"),
            std::string::npos);
}

TEST_F(Removal, CheckWhenThereIsNoOtherAdmin) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Remove("alice", "bob")));
  const RemovalCheck check = CheckRemoval(h.instance(), "alice");
  EXPECT_FALSE(check.safe);
  EXPECT_EQ(Steps(check), (std::vector<Strings>{{"invite_member", "alice", ""},
                                                {"connect_marketo", "", ""},
                                                {"disconnect_marketo", "alice", ""}}));
  EXPECT_NE(check.remaining_steps.at(0).description.find("invites another admin"),
            std::string::npos);
}

TEST_F(Removal, CheckSaysSafeForMembersWhoDoNotOwnTheConnection) {
  ASSERT_TRUE(Accepted(h.Connect("alice")));
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
  for (const char* member : {"bob", "carol"}) {
    const RemovalCheck check = CheckRemoval(h.instance(), member);
    EXPECT_TRUE(check.safe) << member;
    EXPECT_TRUE(check.rule.empty()) << member;
    EXPECT_TRUE(check.remaining_steps.empty()) << member;
  }
  EXPECT_NE(CheckRemoval(h.instance(), "bob").reason.find("standby connection"), std::string::npos);
  EXPECT_NE(CheckRemoval(h.instance(), "carol").reason.find("access is revoked"),
            std::string::npos);
}

TEST_F(Removal, CheckSaysSafeForEveryoneWhenNothingIsConnected) {
  EXPECT_TRUE(CheckRemoval(h.instance(), "alice").safe);
  EXPECT_TRUE(CheckRemoval(h.instance(), "bob").safe);
}

TEST_F(Removal, CheckOfARemovedMemberIsNotSafe) {
  ASSERT_TRUE(Accepted(h.Remove("alice", "carol")));
  const RemovalCheck check = CheckRemoval(h.instance(), "carol");
  EXPECT_FALSE(check.safe);
  EXPECT_EQ(check.rule, "member_removed");
}

}  // namespace
}  // namespace custody
