#pragma once

#include <string>
#include <vector>

#include "runtime/ballotctl/kv_commands.hpp"
#include "runtime/client/client.hpp"

/// ballotctl's membership commands (README "Changing the membership"):
///   member list                               id, role, addresses, lag
///   member add --peer H:P --client H:P        adds a learner, prints its id
///   member promote ID | member remove ID
namespace ballot::ctl {

/// Whether `args` (after "member") are well formed; "" or the usage error.
/// `peer` and `client` are the values of --peer and --client (member add only).
std::string check_member_args(const std::vector<std::string>& args, const std::string& peer,
                              const std::string& client);

/// Runs a well-formed member command. Exit 0; 1 refused (the change cannot
/// apply: the text says why; permissionDenied; unauthenticated); 3 no
/// answer within --timeout (for promote: the learner is still far behind).
int run_member(const output& out, const std::vector<std::string>& args, const std::string& peer,
               const std::string& client, client::client& c);

}  // namespace ballot::ctl
