#pragma once

#include <string>

#include "runtime/ballotctl/kv_commands.hpp"
#include "runtime/client/client.hpp"

/// ballotctl's backup commands (README "Backup and restore"):
///   snapshot save FILE     an online backup of the cluster into FILE
///   snapshot status FILE   what a backup file holds, and whether it is whole
namespace ballot::ctl {

/// Streams a backup into FILE.part, fsyncs it and renames it to FILE (so
/// FILE is whole or absent); progress on stderr for saves of over a second.
/// Exit 0; 1 refused (permissionDenied, unauthenticated, another backup in
/// progress on the node); 2 FILE cannot be written; 3 unavailable.
int run_snapshot_save(const output& out, const std::string& file, client::client& c);

/// Checks FILE (magic, sizes, SHA-256) and prints its revision, applied
/// index, size, key and session counts, members, cluster id and checksum
/// (`--json`: one object). Exit 1 naming the problem and its offset when the
/// file is damaged, 2 when it cannot be read. Needs no cluster.
int run_snapshot_status(const output& out, const std::string& file);

}  // namespace ballot::ctl
