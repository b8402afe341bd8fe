#pragma once

#include <optional>
#include <string>

/// `<data-dir>/cluster-id`: the cluster id a node was bootstrapped (or
/// restored) with, as 64 hex digits and a newline, then where it came from
/// (`derived`, `explicit` or `restored`) on a line of its own. Written under a temporary
/// name, fsynced, renamed and the directory fsynced, so a crash leaves either
/// no file or the whole one.
namespace ballot::ballotd {

constexpr const char* cluster_id_file_name = "cluster-id";

/// Where a cluster id came from.
enum class id_origin {
  derived,    ///< from --cluster-token and --peers at bootstrap
  explicit_,  ///< --cluster-id
  restored,   ///< --restore (from the backup's id and checksum)
};

/// The id a node's flags ask for.
struct cluster_id_wish {
  std::string id;  ///< raw bytes
  id_origin origin = id_origin::derived;
};

/// What reading the file found.
struct stored_cluster_id {
  bool present = false;
  cluster_id_wish value;  ///< when present and valid
  std::string error;      ///< set when present but unreadable or malformed
};

stored_cluster_id read_cluster_id(const std::string& dir);

/// Writes `text` to `dir`/`name` under a temporary name, fsyncs it, renames
/// it and fsyncs the directory: a crash leaves the old file or the whole new
/// one. Returns an error message naming the step and path, or nullopt.
std::optional<std::string> write_file_durably(const std::string& dir, const std::string& name,
                                              const std::string& text);

/// Writes the id to `dir`/cluster-id atomically and durably; returns an
/// error message, or nullopt.
std::optional<std::string> write_cluster_id(const std::string& dir, const cluster_id_wish& id);

/// The outcome of settling a node's cluster id at start-up.
struct cluster_id_check {
  std::string id;     ///< the id to use (raw bytes)
  std::string error;  ///< non-empty: refuse to start (exit 2, or 3 for a bad file)
  bool bad_file = false;
};

/// Compares the id the flags make with the stored one; writes it when none
/// is stored yet. An id derived from --cluster-token and --peers must match
/// a stored derived one (the flags changed, or the directory is another
/// cluster's); a stored explicit or restored id is kept when the flags only
/// derive one (a restored node restarts without --restore or --cluster-id);
/// --cluster-id must match whatever is stored.
cluster_id_check settle_cluster_id(const std::string& dir, const cluster_id_wish& wanted);

}  // namespace ballot::ballotd
