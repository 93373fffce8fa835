// CheckRemoval: the handover of the seed "connect a new admin to Marketo", as steps left to do.

#include <algorithm>

#include "domain/instance.h"

namespace custody {
namespace {

std::string Quoted(const std::string& id) { return "'" + id + "'"; }

// The admin best placed to take over from `owner`: the earliest other connected admin, else
// the earliest-invited other active admin. Empty when there is none.
std::string Successor(const InstanceState& state, const std::string& owner) {
  for (const Connection& connection : state.connected) {
    if (connection.admin != owner) return connection.admin;
  }
  std::string best;
  std::int64_t best_position = 0;
  for (const auto& [id, record] : state.members) {
    if (id == owner || record.removed || !record.is_admin()) continue;
    if (best.empty() || record.invited_position < best_position) {
      best = id;
      best_position = record.invited_position;
    }
  }
  return best;
}

}  // namespace

RemovalCheck CheckRemoval(const InstanceState& state, const std::string& member) {
  RemovalCheck check;
  const MemberRecord* record = state.member(member);
  if (record == nullptr || record->removed) {
    check.rule = record == nullptr ? "unknown_member" : "member_removed";
    check.reason = Quoted(member) + (record == nullptr ? " is not a member of this instance"
                                                       : " was already removed");
    return check;
  }

  const Connection* owner = state.owner();
  if (owner == nullptr || owner->admin != member) {
    check.safe = true;
    check.reason = Quoted(member) +
                   " does not own the Marketo connection: removing them cuts "
                   "nobody off";
    if (state.is_connected(member)) check.reason += "; their standby connection ends with them";
    if (state.has_access(member)) check.reason += "; their integration access is revoked";
    return check;
  }

  check.rule = "owner_cannot_be_removed";
  check.reason = Quoted(member) +
                 " owns the Marketo connection: removing them would cut the integration for "
                 "everyone who uses it.";
  const std::string successor = Successor(state, member);
  const std::string who = successor.empty() ? "the new admin" : Quoted(successor);
  if (successor.empty()) {
    check.remaining_steps.push_back(
        {"invite_member", member, "", "an admin invites another admin to take over"});
  } else if (state.has_access(successor)) {
    check.remaining_steps.push_back(
        {"revoke_marketo_access", member, successor,
         Quoted(member) + " revokes the Marketo integration access of " + who +
             " in Settings > Marketo > User Access (an admin holding access cannot click "
             "Connect)"});
  }
  if (successor.empty() || !state.is_connected(successor)) {
    check.remaining_steps.push_back(
        {"connect_marketo", successor, "",
         who + " establishes a new connection: Settings > Marketo > Connect"});
  }
  check.remaining_steps.push_back(
      {"disconnect_marketo", member, "",
       Quoted(member) + " disconnects: Settings > Marketo > Disconnect; ownership passes to " +
           who + " and users with access stay connected"});
  return check;
}

}  // namespace custody
