// The stories of the seed "connect a new admin to Marketo", end to end.

#include <gtest/gtest.h>

#include "domain/instance.h"
#include "tests/domain/harness.h"

namespace custody {
namespace {

using domaintest::Accepted;
using domaintest::ConnectedAdmins;
using domaintest::DataOf;
using domaintest::Harness;
using domaintest::Refused;
using Strings = std::vector<std::string>;

std::vector<std::string> StepCommands(const RemovalCheck& check) {
  std::vector<std::string> commands;
  for (const HandoverStep& step : check.remaining_steps) {
    commands.push_back(step.command + ":" + step.actor);
  }
  return commands;
}

// Admin A (alice) owns the connection; admin B (bob) is to take over; users carol and dave use
// the integration through granted access.
class HandoverStory : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Accepted(h.CreateTenant("alice")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "bob", "admin")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "carol", "user")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "dave", "user")));
    ASSERT_TRUE(Accepted(h.Connect("alice")));
    ASSERT_TRUE(Accepted(h.Grant("alice", "carol")));
    ASSERT_TRUE(Accepted(h.Grant("alice", "dave")));
  }
  Harness h;
};

TEST_F(HandoverStory, FullHandoverWhenTheNewAdminHoldsAccess) {
  ASSERT_TRUE(Accepted(h.Grant("alice", "bob")));

  // B cannot click Connect while holding granted access.
  EXPECT_TRUE(Refused(h.Connect("bob"), "access_must_be_revoked_first", {"revoke"}));
  // A cannot be removed: the whole handover is still ahead.
  EXPECT_TRUE(Refused(h.Remove("bob", "alice"), "owner_cannot_be_removed", {"Handover first"}));
  const RemovalCheck before = CheckRemoval(h.instance(), "alice");
  EXPECT_FALSE(before.safe);
  EXPECT_EQ(StepCommands(before), (Strings{"revoke_marketo_access:alice", "connect_marketo:bob",
                                           "disconnect_marketo:alice"}));
  EXPECT_EQ(before.remaining_steps.at(0).member, "bob");

  // 1. A revokes B's access.
  ASSERT_TRUE(Accepted(h.Revoke("alice", "bob")));
  EXPECT_EQ(StepCommands(CheckRemoval(h.instance(), "alice")),
            (Strings{"connect_marketo:bob", "disconnect_marketo:alice"}));
  // 2. B connects.
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  EXPECT_EQ(StepCommands(CheckRemoval(h.instance(), "alice")), Strings{"disconnect_marketo:alice"});
  EXPECT_TRUE(Refused(h.Remove("bob", "alice"), "owner_cannot_be_removed"));
  // 3. A disconnects: ownership passes to B, users stay connected.
  ASSERT_TRUE(Accepted(h.Disconnect("alice")));
  ASSERT_EQ(h.last_types(), (Strings{"marketo.disconnected", "marketo.ownership_transferred"}));
  const auto transfer = DataOf<events::OwnershipTransferred>(h.last().at(1));
  EXPECT_EQ(transfer.from, "alice");
  EXPECT_EQ(transfer.to, "bob");
  EXPECT_EQ(h.last().at(1).subject, "bob");
  EXPECT_EQ(h.instance().owner()->admin, "bob");
  EXPECT_EQ(h.instance().access, (Strings{"carol", "dave"}));
  // 4. A can now be removed safely.
  const RemovalCheck after = CheckRemoval(h.instance(), "alice");
  EXPECT_TRUE(after.safe);
  EXPECT_TRUE(after.remaining_steps.empty());
  ASSERT_TRUE(Accepted(h.Remove("bob", "alice")));
  ASSERT_EQ(h.last_types(), Strings{"member.removed"});
  EXPECT_TRUE(h.instance().member("alice")->removed);
  EXPECT_EQ(ConnectedAdmins(h.instance()), Strings{"bob"});
  EXPECT_EQ(h.instance().access, (Strings{"carol", "dave"}));
}

TEST_F(HandoverStory, OnlyTheDisconnectWhenTheOtherAdminIsAlreadyConnected) {
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  EXPECT_EQ(StepCommands(CheckRemoval(h.instance(), "alice")), Strings{"disconnect_marketo:alice"});
  ASSERT_TRUE(Accepted(h.Disconnect("alice")));
  const auto transfer = DataOf<events::OwnershipTransferred>(h.last().at(1));
  EXPECT_EQ(transfer.from, "alice");
  EXPECT_EQ(transfer.to, "bob");
  EXPECT_EQ(h.instance().access, (Strings{"carol", "dave"}));
  EXPECT_TRUE(CheckRemoval(h.instance(), "alice").safe);
  ASSERT_TRUE(Accepted(h.Remove("bob", "alice")));
  EXPECT_EQ(h.instance().owner()->admin, "bob");
}

TEST_F(HandoverStory, LastAdminDisconnectCutsOffEveryAccessHolder) {
  ASSERT_TRUE(Accepted(h.Grant("alice", "bob")));
  ASSERT_TRUE(Accepted(h.Disconnect("alice")));
  ASSERT_EQ(h.last_types(), (Strings{"marketo.disconnected", "marketo.integration_down"}));
  const auto down = DataOf<events::IntegrationDown>(h.last().at(1));
  EXPECT_EQ(down.last_admin, "alice");
  EXPECT_EQ(down.cut_off, (Strings{"carol", "dave", "bob"}));
  EXPECT_EQ(h.instance().owner(), nullptr);
  EXPECT_TRUE(h.instance().connected.empty());
  EXPECT_TRUE(h.instance().access.empty());
  // With nothing connected, nobody owns the connection and anyone may be removed.
  EXPECT_TRUE(CheckRemoval(h.instance(), "alice").safe);
  // Now that nobody holds access, B can connect and becomes the owner.
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  EXPECT_EQ(h.instance().owner()->admin, "bob");
}

TEST_F(HandoverStory, EveryFactNamesItsActorAndSubject) {
  ASSERT_TRUE(Accepted(h.Connect("bob")));
  ASSERT_TRUE(Accepted(h.Disconnect("alice")));
  for (const Event& event : h.last()) {
    EXPECT_EQ(event.actor, "alice");
    EXPECT_EQ(event.stream, "acme/instance");
    EXPECT_EQ(event.tenant, "acme");
  }
  EXPECT_EQ(h.last().at(0).subject, "alice");
  EXPECT_EQ(h.last().at(1).subject, "bob");
  // Versions of the instance stream follow each other without gaps.
  std::int64_t version = 0;
  for (const Event& event : h.log()) EXPECT_EQ(event.version, ++version);
  EXPECT_EQ(h.instance().version, version);
}

}  // namespace
}  // namespace custody
