#pragma once

#include "runtime/ballotd/options.hpp"

namespace ballot::ballotd {

/// `ballotd --restore FILE`: makes `opts.data_dir` (absent or empty) the
/// data directory of a member of a NEW cluster holding the backup's state
/// (README "Backup and restore"). Verifies the file's checksum, writes the
/// state as the log's first checkpoint and the new cluster id, in a
/// temporary directory renamed into place at the end, so a crash leaves no
/// half-restored directory. Returns 0, or the exit code after printing why
/// (2: a non-empty data directory or an unreadable file; 3: a damaged backup
/// or a failing disk).
int restore_data_dir(const options& opts);

}  // namespace ballot::ballotd
